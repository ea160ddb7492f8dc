// Atlassian's rendered HTML is cleaned by portal/sanitize.ts before a page shows it (ADR 0303). A
// hostile agent or API user can put raw HTML-ish text in a comment or an article: here a corpus of
// mutation-XSS vectors, in every context the cleaning treats differently, goes through each way the
// portal cleans, and the output is parsed by real Chromium the way a page would show it (no CSP, so
// nothing is stopped but by the cleaning). No script may run, nothing may be fetched but the portal's
// own file routes, and the DOM the browser builds holds only the tags, attributes and URL schemes the
// cleaning allows.
import { expect } from 'chai';
import type { Browser as Chromium, Page } from 'playwright-core';
import type { FileView } from '../../portal/files.js';
import { renderedFieldHtml } from '../../portal/request-timeline.js';
import { type PortalFile, sanitizeAtlassianHtml, sanitizeCommentHtml } from '../../portal/sanitize.js';
import { launchChromium } from '../../testkit/chromium.js';

const SITE = 'https://acme.atlassian.net';
/** Where an article is read at the site: its relative links resolve against it. */
const ARTICLE = `${SITE}/rest/servicedeskapi/knowledgebase/article/view/1`;
/** Where the page is served from: the portal's origin for the test. */
const PORTAL = 'http://portal.test';
/** The one file of the request the customer may open. */
const FILE: PortalFile = {
  name: 'shot.png',
  href: '/portal/files/7',
  thumbnail: '/portal/files/7/thumbnail',
};
const files = new Map<string, FileView>([['7', { ...FILE, id: '7' }]]);
const file = (id: string) => (id === '7' ? FILE : undefined);

/** Each way the portal cleans Atlassian's HTML. */
const CLEANERS: Record<string, (dirty: string) => string> = {
  article: (d) => sanitizeAtlassianHtml(d, ARTICLE).value,
  agentComment: (d) => sanitizeCommentHtml(d, { siteOrigin: SITE, file }).value,
  customerComment: (d) => sanitizeCommentHtml(d, { siteOrigin: SITE, file, typedByCustomer: true }).value,
  description: (d) => renderedFieldHtml(d, files, SITE).value,
};

/** Active markup: each runs `alert`, or asks the beacon, if it reaches the browser as written. */
const VECTORS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<img src="http://beacon.test/img">',
  '<svg onload=alert(1)>',
  '<iframe srcdoc="<script>parent.alert(1)</script>"></iframe>',
  '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<a href="jav&#x0A;ascript:alert(1)">x</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<a href=" &#x01;javascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href="data:text/html,<script>alert(1)</script>">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="https://acme.atlassian.net/secure/attachment/7/x" onclick=alert(1)>f</a>',
  '<a href="/secure/attachment/7/%2e%2e/%2e%2e/x">f</a>',
  '<a href="https://acme.atlassian.net/secure/attachment/7/../../../../logout">f</a>',
  '<a href="https://acme.atlassian.net/secure/attachment/8/secret.txt">f</a>',
  '<a href="https:\\\\acme.atlassian.net\\secure\\attachment\\7\\x">f</a>',
  '<a href="https://acme.atlassian.net@beacon.test/secure/attachment/7/x">f</a>',
  '<img src="/secure/thumbnail/7/x" srcset="http://beacon.test/srcset 1x" onerror=alert(1)>',
  '<img src="https://acme.atlassian.net/secure/thumbnail/8/x">',
  '<img src="javascript:alert(1)">',
  '<form><button formaction="javascript:alert(1)">go</button></form>',
  '<svg><a xlink:href="javascript:alert(1)"><text y=20>x</text></a></svg>',
  '<p style="background:url(http://beacon.test/css)">x</p>',
  '<p style="width:expression(alert(1))">x</p>',
  '<style>@import "http://beacon.test/import";</style>',
  '<link rel=stylesheet href="http://beacon.test/link">',
  '<meta http-equiv=refresh content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<object data="http://beacon.test/object"></object>',
  '<embed src="http://beacon.test/embed">',
  '<video><source onerror=alert(1)></video>',
  '<details open ontoggle=alert(1)>',
  '<input autofocus onfocus=alert(1)>',
];

/** Contexts the vectors are put in: `$` is the vector. Each hides it from some parser. */
const CONTEXTS = [
  '$',
  '<p>$</p>',
  '<noscript><p title="</noscript>$"></noscript>',
  '<noscript>$</noscript>',
  '<svg><style>$</style></svg>',
  '<svg></p><style><a id="</style>$">',
  '<math><mtext><table><mglyph><style><!--</style>$',
  '<math><mi><style>$</style></mi></math>',
  '<template>$</template>',
  '<template><style></template>$</style>',
  '<!--$-->',
  '<!-- --!>$-->',
  '<!--<p title="-->$">',
  '<!--',
  '<p>x</p><!-- $',
  '</p>$<p>',
  '<xmp>$</xmp>',
  '<xmp></xmp>$',
  '<textarea>$</textarea>',
  '<textarea></textarea/>$',
  '<title>$</title>',
  '<style>$</style>',
  '<style><p title="</style>$">',
  '<script>$</script>',
  '<iframe>$</iframe>',
  '<iframe><p title="</iframe>$">',
  '<noembed><p title="</noembed>$"></noembed>',
  '<noframes><p title="</noframes>$"></noframes>',
  '<plaintext>$',
  '<select><option>$</option></select>',
  '<option><style></option></select>$</style>',
  '<table><caption>$</caption></table>',
  '<table>$<tr><td>x</td></tr></table>',
  '<a href="https://acme.atlassian.net/browse/X-1">$</a>',
  '<a href="https://acme.atlassian.net/browse/X-1" title="</a>$">X-1</a>',
  '<a href="https://acme.atlassian.net/secure/attachment/7/x">$</a>',
  '<a href="https://acme.atlassian.net/secure/attachment/8/x"><style>$</style></a>',
  '<a href="https://acme.atlassian.net/jira/people/1"><xmp>$</xmp></a>',
  '<span class="error"><style>$</style></span>',
  '<a href="https://acme.atlassian.net/browse/X-1"><textarea></a>$</textarea>',
  '<jsmsso-text><style>$</style></jsmsso-text>',
  '<p>&lt;$&gt;</p>',
  '<p title="(portal reference jsmsso0123456789abcdef01234567)">$</p>',
  '<p>&lt(portal reference jsmsso0123456789abcdef01234567);script&gt;alert(1)&lt;/script&gt;</p>$',
  '<p>Sent via the portal</p>$',
];

const within = (context: string, inner: string) => context.replace('$', () => inner);
/** Every vector in every context, and one in every context nested in every other. */
const corpus = [
  ...CONTEXTS.flatMap((context) => VECTORS.map((vector) => within(context, vector))),
  ...CONTEXTS.flatMap((outer) => CONTEXTS.map((inner) => within(outer, within(inner, VECTORS[1]!)))),
];

const ALLOWED_TAGS = new Set(
  'p br hr div span strong b em i u s sub sup code pre blockquote ul ol li dl dt dd h2 h3 h4 h5 h6 a table thead tbody tfoot tr th td caption img'.split(
    ' ',
  ),
);
const ALLOWED_ATTRIBUTES = new Set(['href', 'title', 'rel', 'scope', 'colspan', 'rowspan', 'src', 'alt']);
const ALLOWED_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** What the browser made of a page whose body is `clean`: anything the cleaning should have stopped. */
interface Rendered {
  alerted: boolean;
  requested: string[];
  strays: string[];
}

describe('portal: Atlassian HTML cleaned, then parsed by Chromium (mutation XSS)', function () {
  this.timeout(600_000);
  let chromium: Chromium;
  let page: Page;
  /** The body of the page served next. */
  let body = '';
  const requested: string[] = [];

  before(async () => {
    chromium = await launchChromium();
    const context = await chromium.newContext({ javaScriptEnabled: true });
    // Every dialog a payload would open counts as script run, wherever it runs (frames too).
    // A string, not a function: tsx's helpers would not exist in the page.
    await context.addInitScript(
      'window.alert = window.confirm = window.prompt = window.print = () => { window.top.__ran = true; };',
    );
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === `${PORTAL}/page`)
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body });
      requested.push(url);
      return route.fulfill({ status: 404, body: '' });
    });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      requested.push(`dialog:${dialog.message()}`);
      void dialog.dismiss();
    });
  });
  after(async () => {
    await chromium?.close();
  });
  /** Outputs already rendered (by any way of cleaning): each is parsed once. */
  const seen = new Set<string>();

  /** Serves `clean` as a page's content and reports what Chromium did with it, once it has loaded. */
  async function render(clean: string): Promise<Rendered> {
    // Its own icon, so that Chromium asks for no /favicon.ico while a body is judged.
    body = `<!doctype html><html><head><title>t</title><link rel="icon" href="data:,"></head><body><main id="clean">${clean}</main></body></html>`;
    requested.length = 0;
    // `load` waits for every image (and its error event) and frame of the page.
    await page.goto(`${PORTAL}/page`, { waitUntil: 'load' });
    const { alerted, strays } = await page.evaluate(
      ({ tags, attributes, schemes }) => {
        const strays: string[] = [];
        const root = document.getElementById('clean');
        if (!root) return { alerted: true, strays: ['the content escaped its container'] };
        // Anything outside the container but the page's own elements was hoisted by the parser.
        for (const el of Array.from(document.querySelectorAll('head > *, body > *')))
          if (el !== root && !el.matches('title, link[rel=icon]')) strays.push(`<${el.localName}> outside`);
        for (const el of Array.from(root.querySelectorAll('*'))) {
          if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml' || !tags.includes(el.localName))
            strays.push(`<${el.localName}>`);
          for (const attr of Array.from(el.attributes)) {
            if (!attributes.includes(attr.name)) strays.push(`<${el.localName} ${attr.name}>`);
            else if (attr.name === 'href' || attr.name === 'src') {
              const scheme = new URL(attr.value, document.baseURI).protocol;
              if (!schemes.includes(scheme)) strays.push(`<${el.localName} ${attr.name}="${attr.value}">`);
            }
          }
        }
        return { alerted: (window as unknown as { __ran?: boolean }).__ran === true, strays };
      },
      { tags: [...ALLOWED_TAGS], attributes: [...ALLOWED_ATTRIBUTES], schemes: [...ALLOWED_SCHEMES] },
    );
    const own = (url: string) => url.startsWith(`${PORTAL}/portal/files/`);
    return { alerted, requested: requested.filter((url) => !own(url)), strays };
  }

  it('runs the page’s own script, and sees a vector that is not cleaned (the check works)', async () => {
    const raw = await render('<img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>');
    expect(raw.alerted).to.equal(true);
    expect(raw.requested).to.deep.equal([`${PORTAL}/x`]);
    expect(raw.strays).to.deep.equal(['<img onerror>', '<a href="javascript:alert(1)">']);
  });

  for (const [way, clean] of Object.entries(CLEANERS))
    it(`lets nothing run, load or link to script from ${corpus.length} hostile bodies (${way})`, async () => {
      const findings: string[] = [];
      for (const dirty of corpus) {
        const output = clean(dirty);
        if (seen.has(output)) continue;
        seen.add(output);
        const rendered = await render(output);
        if (rendered.alerted || rendered.requested.length || rendered.strays.length)
          findings.push(`${JSON.stringify(dirty)} -> ${JSON.stringify(output)}: ${JSON.stringify(rendered)}`);
      }
      expect(findings, findings.join('\n')).to.deep.equal([]);
    });
});
