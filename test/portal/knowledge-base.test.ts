// Knowledge base articles: search results open an article page whose content is the article's HTML
// read through the API (content.iframeSrc) and cleaned by sanitize-html; only articles a portal desk
// offers can be opened, and content is never fetched from outside the Atlassian site.
import { expect } from 'chai';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import type { Exchange } from '../../testkit/atlassian-spec.js';
import { type Browser, type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal knowledge base articles', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness({ atlassian: { serviceDeskIds: ['1'] } });
    alice = await signIn(h, 'alice@acme.test');
  });
  after(async () => {
    await h.close();
  });
  const article = (title: string) => h.emulator.state.articles.find((a) => a.title === title)!;
  const linkTo = (body: string, title: string) =>
    new RegExp(`<a href="([^"]+)"><strong>${title}</strong></a>`)
      .exec(body)?.[1]
      ?.replaceAll('&amp;', '&')
      .replaceAll('&#61;', '=');
  /** The cleaned content of an article whose body at the site is these parts, as the portal shows it. */
  const articleShowing = async (body: string[]) => {
    const a = article('Reset your password');
    a.body = body.join('');
    const page = await alice.text(`/desk/1/article/${a.id}?title=${encodeURIComponent(a.title)}`);
    expect(page.status).to.equal(200);
    return /<article class="card kb-article"[^>]*>([\s\S]*?)<\/article>/.exec(page.body)![1]!;
  };

  it('links each search result to its article page, which shows the article’s content', async () => {
    const results = await alice.text(`/?q=${encodeURIComponent('VPN')}`);
    const href = linkTo(results.body, 'Connect to the VPN');
    expect(href, 'a link to the article').to.equal(
      `/desk/1/article/${article('Connect to the VPN').id}?title=Connect+to+the+VPN`,
    );
    const page = await alice.text(href!);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<h1 id="article-h">Connect to the VPN</h1>');
    expect(page.body).to.include('<li>Open <strong>Settings › VPN</strong>.</li>');
    expect(page.body).to.include(
      '<a href="https://status.acme.test/vpn" rel="noopener noreferrer nofollow">Check the VPN status page</a>',
    );
  });

  it('removes script, event handlers, dangerous URLs, frames, forms and styles from article content', async () => {
    const content = await articleShowing([
      '<p onclick="alert(1)">Kept text</p>',
      '<script>alert(2)</script>',
      '<img src="x" onerror="alert(3)">',
      '<a href="javascript:alert(4)">js link</a>',
      '<a href="data:text/html,<script>alert(5)</script>">data link</a>',
      '<iframe src="https://evil.test"></iframe>',
      '<form action="https://evil.test"><input name="password"></form>',
      '<style>body{display:none}</style>',
      '<svg onload="alert(6)"><circle r="1"/></svg>',
      '<math><mi xlink:href="javascript:alert(7)">m</mi></math>',
      '<h1>Article heading</h1>',
      '<table><tr><td style="background:url(javascript:alert(8))">cell</td></tr></table>',
      '<noscript><p title="</noscript><img src=x onerror=alert(9)>"></p></noscript>',
    ]);
    for (const bad of [
      '<script',
      'onclick',
      'onerror',
      'onload',
      'javascript:',
      'data:text',
      '<iframe',
      '<form',
      '<input',
      '<style',
      '<svg',
      '<math',
      '<img',
      'style=',
      '<noscript',
    ]) {
      expect(content, bad).to.not.include(bad);
    }
    expect(content)
      .to.include('<p>Kept text</p>')
      .and.include('<h2>Article heading</h2>')
      .and.include('<td>cell</td>');
    expect(content).to.include('<a rel="noopener noreferrer nofollow">js link</a>');
  });

  it('resolves an article’s relative links against its own URL at the Atlassian site, never a portal path', async () => {
    const a = article('Reset your password');
    const content = await articleShowing([
      '<a href="/requests/X-1/attachment/5">root-relative</a>',
      '<a href="../x">path-relative</a>',
      '<a href="?q=vpn">query</a>',
      '<a href="//evil.test/x">network-path</a>',
      '<a href="#steps">fragment</a>',
      '<a href="jav&#x09;ascript:alert(1)">js</a>',
      '<a href="http://[bad">unparseable</a>',
    ]);
    const hrefs = [
      ...content.matchAll(/<a(?: href="([^"]*)")? rel="noopener noreferrer nofollow">([^<]*)<\/a>/g),
    ].map(([, href, text]) => [text, href?.replaceAll('&amp;', '&').replaceAll('&#61;', '=')]);
    const site = h.emulator.url;
    expect(hrefs).to.deep.equal([
      ['root-relative', `${site}/requests/X-1/attachment/5`],
      ['path-relative', `${site}/rest/servicedeskapi/knowledgebase/article/x`],
      ['query', `${site}/rest/servicedeskapi/knowledgebase/article/view/${a.id}?q=vpn`],
      // Where a browser at the site would go: no different from an absolute link to it.
      ['network-path', new URL('//evil.test/x', site).href],
      // The same document, as it is at the site: kept, so it opens no other page.
      ['fragment', '#steps'],
      ['js', undefined],
      ['unparseable', undefined],
    ]);
  });

  it('answers 404 for an article no portal desk offers, and for a page id that does not match', async () => {
    const hr = h.emulator.state.articles.find((a) => a.serviceDeskId === '2')!;
    const from = h.logs.length;
    const outside = await alice.text(`/desk/2/article/${hr.id}?title=${encodeURIComponent(hr.title)}`);
    expect(outside.status).to.equal(404);
    const wrongId = await alice.text(`/desk/1/article/999?title=${encodeURIComponent('Connect to the VPN')}`);
    expect(wrongId.status).to.equal(404);
    expect(reasons(h, from)).to.include('PORTAL_DESK_NOT_FOUND').and.include('PORTAL_ARTICLE_NOT_FOUND');
  });

  it('opens an article however many others its title’s words find before it', async () => {
    const { articles } = h.emulator.state;
    const add = (id: string, title: string) =>
      articles.push({ id, title, excerpt: title, body: `<p>${title}.</p>`, serviceDeskId: '1' });
    // A knowledge base where the title's words are in many articles, found before this one.
    for (let i = 0; i < 30; i++) add(String(39000 + i), `Reset your password for system ${i}`);
    add('39100', 'Reset your password');
    const from = h.exchanges.length;
    const page = await alice.text('/desk/1/article/39100?title=Reset+your+password');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<h1 id="article-h">Reset your password</h1>');
    const searches = h.exchanges.slice(from).filter((e) => e.path.includes('/knowledgebase/article?'));
    expect(searches.length, 'pages of hits until it').to.be.at.most(2);
  });

  it('never fetches article content from outside the Atlassian site', async () => {
    const exchanges: Exchange[] = [];
    const client = new AtlassianClient({
      siteUrl: h.emulator.url,
      ...SERVICE_ACCOUNT,
      onExchange: (e) => exchanges.push(e),
    });
    for (const src of ['https://evil.test/rest/servicedeskapi/knowledgebase/article/view/1', 'not a url']) {
      const err = await client.articleBody(src).catch((e: Error & { code?: string }) => e);
      expect((err as { code?: string }).code, src).to.equal('ATLASSIAN_NOT_FOUND');
    }
    expect(exchanges).to.deep.equal([]);
  });
});
