// The whole chain in a real browser: portal -> broker -> dev IdP (oidc-provider) login form ->
// broker -> portal; then the customer raises a request with an attachment, finds it, comments, and
// finds an approval asked of her and where to answer it. No header of any page is altered: the CSPs are the real ones.
// Every page shown on the portal and the broker is checked by axe-core at desktop width and at 390 px
// (0 violations); screenshots of the main pages at both widths go to docs/screenshots/ for the README.
// The journeys run in English, German and Japanese (the broker's pages too); the German one walks every
// page the English ones do (the knowledge base, the activity stream, approvals, transitions, My requests'
// filters, the admins' activity page) at both widths, with no English phrase of the catalogue on any.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { type BrokerApp, createBrokerApp } from '../../broker/app.js';
import { brokerEndpoints } from '../../common/config/broker-endpoints.js';
import { parseTenant, tenantId } from '../../common/config/load.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import type { RedisFlowStore } from '../../common/flowstore/index.js';
import { catalogueOf, createTranslator } from '../../common/i18n/index.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { packageRoot } from '../../common/paths.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import { DEV_REALMS } from '../../dev/idp/users.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { STATUSES } from '../../dev/jsm-emulator/workflow.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { createPortalApp, type PortalApp } from '../../portal/app.js';
import { englishIn } from '../../testkit/catalogue-text.js';
import { launchChromium } from '../../testkit/chromium.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { DESKTOP, PageAudit, PHONE } from '../../testkit/page-audit.js';
import { connectedFlowStore } from '../../testkit/redis.js';
import { wordsOutsideCatalogue } from '../../testkit/spoken-language.js';
import { devIdp } from '../../testkit/tenants.js';

async function listen(): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('portal end to end in Chromium', function () {
  // Two axe runs per page, on a loaded machine.
  this.timeout(300_000);
  let emulator: RunningJsmEmulator;
  let idp: DevIdp;
  let partnerIdp: DevIdp;
  let broker: BrokerApp;
  let portal: PortalApp;
  let servers: Server[] = [];
  let browser: Browser;
  let page: Page;
  let dir: string;
  let portalUrl: string;
  let brokerUrl: string;
  let audit: PageAudit;
  const stores: RedisFlowStore[] = [];
  const consoleLines: string[] = [];
  const shots = join(packageRoot(), 'docs', 'screenshots');

  before(async () => {
    emulator = await startJsmEmulator({});
    const b = await listen();
    const p = await listen();
    servers = [b.server, p.server];
    portalUrl = p.url;
    brokerUrl = b.url;
    const clientSecret = 'e2e-client-secret-0123456789';
    const clients = [
      {
        client_id: 'jsm-sso-broker',
        client_secret: clientSecret,
        // The tenant's two OIDC IdPs each send the broker's redirect URI of its own (ADR 0175).
        redirect_uris: ['acme-dev', 'partner-dev'].map((idp) => brokerEndpoints(b.url).redirectUri(idp, 2)),
        grant_types: ['authorization_code'],
        response_types: ['code' as const],
      },
    ];
    idp = await startDevIdp({ clients, users: DEV_REALMS.acme });
    partnerIdp = await startDevIdp({ clients, users: DEV_REALMS.partner });
    dir = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
    const write = (secret: string, key: string, value: string) => {
      mkdirSync(join(dir, secret), { recursive: true });
      writeFileSync(join(dir, secret, key), value);
    };
    const brokerKey = makeKeyPair('e2e broker');
    const portalKey = makeKeyPair('e2e portal');
    write('acme-broker-signing', 'tls.crt', brokerKey.certPem);
    write('acme-broker-signing', 'tls.key', brokerKey.keyPem);
    write('acme-portal-signing', 'tls.crt', portalKey.certPem);
    write('acme-portal-signing', 'tls.key', portalKey.keyPem);
    write('acme-oidc', 'clientSecret', clientSecret);
    write('acme-atlassian', 'email', SERVICE_ACCOUNT.email);
    write('acme-atlassian', 'apiToken', SERVICE_ACCOUNT.apiToken);
    const tenant = parseTenant(
      stringify({
        apiVersion: 'jsm-sso.io/v1alpha1',
        kind: 'JsmSsoTenant',
        metadata: { name: 'acme' },
        spec: {
          portal: {
            url: p.url,
            title: 'Acme Help Center',
            adminGroups: ['jsm-admins'],
            // IT Help's knowledge base is open to visitors who have not signed in.
            anonymousAccess: { serviceDeskIds: ['1'] },
            branding: { primaryColor: '#0b5fff' },
            announcement: {
              message: 'Planned maintenance on Saturday, 10:00–12:00 UTC.',
              translations: { de: 'Geplante Wartung am Samstag, 10–12 Uhr UTC.' },
            },
            // alice raises more requests in these journeys than the default 5 a minute per account.
            limits: { requestCreations: { perAccount: 50 } },
            samlSigningSecretRef: { name: 'acme-portal-signing' },
          },
          broker: { url: b.url, signingSecretRef: { name: 'acme-broker-signing' } },
          identityProviders: [
            devIdp('acme-dev', 'Acme (development IdP)', idp.issuer, {
              emailDomains: ['acme.test'],
              trustGroups: true,
            }),
            devIdp('partner-dev', 'Partner (development IdP)', partnerIdp.issuer, {
              emailDomains: ['partner.test'],
            }),
          ],
          atlassian: {
            siteUrl: emulator.url,
            credentialsSecretRef: { name: 'acme-atlassian' },
            organizationMappings: [{ organizationId: '1', emailDomain: 'acme.test' }],
          },
        },
      }),
    );
    const context = async (component: string) => {
      const store = await connectedFlowStore(`e2e-${component}-${Date.now()}`);
      stores.push(store);
      return {
        tenant,
        tenantId: tenantId(tenant),
        secrets: new SecretDirectory(dir),
        logger: createLogger({ component, level: 'warn' }),
        registry: createMetricsRegistry(),
        store,
      };
    };
    broker = await createBrokerApp(await context('broker'));
    // The pseudo-locales en-XA (long) and ar-XB (right to left) test the layout below.
    portal = await createPortalApp(await context('portal'), { pseudoLocales: true });
    b.server.on('request', broker.handler);
    p.server.on('request', portal.handler);
    browser = await launchChromium();
    audit = new PageAudit({ portal: p.url, broker: b.url }, shots);
    page = await browser.newPage({ viewport: DESKTOP });
    audit.watch(page);
    page.on('console', (m) => consoleLines.push(m.text()));
    mkdirSync(shots, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await portal?.close();
    await broker?.close();
    await idp?.close();
    await partnerIdp?.close();
    await emulator?.close();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** From the broker on: the IdP's login form as alice, then back to the portal at `landing`. */
  const signInAtIdp = async (landing: string, on: Page = page) => {
    // Two IdPs: the broker's choice page finds alice's by her e-mail domain (home-realm discovery).
    if (on.url().includes('/saml/') && (await on.locator('button[name="idp"]').count()) > 0) {
      const discovery = on.locator('form:has(input[name="email"])');
      await discovery.locator('input[name="email"]').fill('alice@acme.test');
      await discovery.locator('button[type="submit"]').click();
      await on.waitForURL(`${idp.issuer}/**`);
    }
    await on.waitForSelector('input[name="email"][type="email"]');
    await on.fill('input[name="email"]', 'alice@acme.test');
    await on.fill('input[name="password"]', 'demo');
    await on.click('button[type="submit"]');
    await on.waitForURL(landing).catch(async (err: Error) => {
      throw new Error(
        `${err.message}\nstuck at ${on.url()}: ${(await on.textContent('body'))?.slice(0, 300)}\nconsole: ${consoleLines.join('\n')}`,
      );
    });
  };

  /** Another browser profile (its own cookies, language, zone), watched by the audit, its console kept. */
  const profile = async (options: BrowserContextOptions) => {
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    const opened = await context.newPage();
    audit.watch(opened);
    const lines: string[] = [];
    opened.on('console', (m) => lines.push(m.text()));
    return { context, page: opened, lines };
  };

  /** axe at both widths on the page shown now, and its screenshots at both widths for the README. */
  const shot = (name: string) => audit.check(page, name);
  /** The emulator's request with this summary. */
  const seeded = (summary: string) =>
    [...emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;

  it('sends carol to the partner IdP by her domain, and refuses the partner IdP asserting an acme.test address', async () => {
    const { context, page: fresh } = await profile({});
    try {
      const signInAt = async (chooser: (p: typeof fresh) => Promise<void>, email: string) => {
        await fresh.goto(`${portalUrl}/requests`);
        await fresh.waitForSelector('button[name="idp"]');
        await audit.check(fresh);
        await chooser(fresh);
        await fresh.waitForURL(`${partnerIdp.issuer}/**`);
        await fresh.fill('input[name="email"]', email);
        await fresh.fill('input[name="password"]', 'demo');
        await fresh.click('button[type="submit"]');
      };
      // Home-realm discovery: partner.test belongs to the partner IdP.
      await signInAt(async (p) => {
        await p.fill('form:has(input[name="email"]) input[name="email"]', 'carol@partner.test');
        await p.click('button:has-text("Continue")');
      }, 'carol@partner.test');
      await fresh.waitForURL(`${portalUrl}/requests**`);
      expect(await fresh.textContent('h1')).to.equal('Requests');
      await audit.check(fresh);

      // The partner IdP's rogue account claims mallory@acme.test: the broker refuses it before the
      // portal (and Atlassian) hear of it.
      await context.clearCookies();
      await signInAt((p) => p.click('button:has-text("Partner (development IdP)")'), 'mallory@acme.test');
      await fresh.waitForSelector('text=IDP_NOT_AUTHORITATIVE');
      expect(fresh.url().startsWith(`${partnerIdp.issuer}`)).to.equal(false);
      expect(fresh.url().startsWith(portalUrl)).to.equal(false);
      expect(await fresh.textContent('h1')).to.equal('Sign-in refused');
      await audit.check(fresh);
    } finally {
      await context.close();
    }
  });

  it('lets a visitor who has not signed in read the open knowledge base, and nothing else', async () => {
    const { context, page: visitor } = await profile({});
    try {
      await visitor.goto(`${portalUrl}/`);
      expect(await visitor.textContent('#kb-h')).to.equal('Knowledge base');
      // The help center's announcement (ADR 0154), to visitors too.
      expect(await visitor.textContent('.announcement p')).to.equal(
        'Planned maintenance on Saturday, 10:00–12:00 UTC.',
      );
      expect(await visitor.textContent('main'))
        .to.include('IT Help')
        .and.not.include('Raise a request');
      await audit.check(visitor, 'help-center-anonymous');
      await visitor.fill('#kb-q', 'VPN');
      await visitor.click('form[role="search"] button');
      expect(await visitor.locator('#rt-h').count(), 'no request types for anonymous visitors').to.equal(0);
      await audit.check(visitor);
      await visitor.click('a:has-text("Connect to the VPN")');
      await visitor.waitForURL(/\/desk\/1\/article\//);
      expect(await visitor.textContent('article')).to.include('Choose Acme VPN and sign in');
      await audit.check(visitor);
      await visitor.click('nav[aria-label="Breadcrumb"] a:has-text("IT Help")');
      await visitor.waitForURL(`${portalUrl}/desk/1`);
      expect(await visitor.locator('a[href*="/create/"]').count()).to.equal(0);
      await audit.check(visitor);
      // Requests still need sign-in: the broker asks who it is.
      await visitor.goto(`${portalUrl}/requests`);
      await visitor.waitForURL(`${brokerUrl}/**`);
    } finally {
      await context.close();
    }
  });

  it('signs in through broker and IdP, raises a request with an attachment, finds it, comments, and sees how to answer an approval', async () => {
    await page.goto(`${portalUrl}/requests`);
    await signInAtIdp(`${portalUrl}/requests**`);
    expect(await page.textContent('h1')).to.equal('Requests');
    expect(await page.textContent('body')).to.include('Printer on 3rd floor jams every morning');
    await shot('my-requests');

    // On a phone (390 px) My requests is a list of cards: nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${portalUrl}/requests?status=all&ownership=all`);
    const widths = await page.evaluate(() => ({
      document: document.documentElement.scrollWidth,
      viewport: document.documentElement.clientWidth,
    }));
    expect(widths.viewport).to.equal(390);
    expect(widths.document, 'document scrollWidth at 390 px').to.be.at.most(390);
    expect(await page.locator('table.cards thead').isVisible()).to.equal(true); // visually hidden, still read
    expect(await page.locator('table.cards tr td[data-label="Status"]').first().isVisible()).to.equal(true);
    await page.setViewportSize(DESKTOP);

    await page.goto(`${portalUrl}/`);
    // The hero's search button stands out from the hero behind it.
    const [hero, button] = await page.evaluate(() =>
      ['.hero', '.hero button'].map((sel) => getComputedStyle(document.querySelector(sel)!).backgroundColor),
    );
    expect(button).to.not.equal(hero);
    // ... and lines up with the header above it.
    const lefts = await page.evaluate(() =>
      // main > h2: the page's own headings (a card's, such as the announcement's, sits inside its padding).
      ['header.banner .bar > a', '.hero h1', 'main > h2', 'main > .announcement'].map(
        (sel) => document.querySelector(sel)!.getBoundingClientRect().left,
      ),
    );
    expect(new Set(lefts).size, `left edges ${lefts.join(', ')}`).to.equal(1);
    await shot('help-center');
    // "How can we help?" finds request types (leading to their forms) and articles in one search.
    await page.fill('#kb-q', 'laptop');
    await page.click('form[role="search"] button');
    expect(await page.textContent('section[aria-labelledby="rt-h"]')).to.include('Report a broken laptop');
    expect(await page.getAttribute('section[aria-labelledby="rt-h"] a', 'href')).to.match(
      /^\/desk\/1\/create\//,
    );
    expect(await page.isVisible('#kb-h')).to.equal(true);
    await shot('help-search');
    // A knowledge base result opens the article, its content cleaned by the portal.
    await page.fill('#kb-q', 'VPN');
    await page.click('form[role="search"] button');
    await audit.check(page);
    await page.click('a:has-text("Connect to the VPN")');
    await page.waitForURL(/\/desk\/\d+\/article\//);
    expect(await page.textContent('h1')).to.equal('Connect to the VPN');
    expect(await page.textContent('article')).to.include('Choose Acme VPN and sign in');
    await shot('kb-article');
    await page.goto(`${portalUrl}/`);
    await page.click('text=IT Help');
    // Request types are cards without list bullets.
    expect(
      await page.evaluate(() => getComputedStyle(document.querySelector('ul.types')!).listStyleType),
    ).to.equal('none');
    await shot('service-desk');
    await page.click('text=Get IT help');
    await page.fill('#fld-summary', 'Docking station does not charge');
    await page.fill('#fld-description', 'Since Monday the dock powers the screens but not the laptop.');
    await page.check('text=High');
    await page.setInputFiles('input[type="file"]', {
      name: 'dock.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('dock log'),
    });
    await shot('raise-request');
    await page.click('button:has-text("Send")');
    await page.waitForURL(/\/requests\/IT-\d+\?created=1$/);
    const key = /\/requests\/(IT-\d+)/.exec(page.url())![1]!;
    await audit.check(page);
    expect(await page.textContent('body')).to.include('dock.txt');

    await page.fill('#comment-body', 'It also gets warm.');
    await page.click('button:has-text("Comment")');
    await page.waitForURL(/commented=1$/);
    expect(await page.textContent('body')).to.include('It also gets warm.');

    // A transition asks first; backing out changes nothing.
    const status = await page.textContent('aside .lozenge');
    await page.click('aside a.button.secondary >> nth=0');
    await page.waitForURL(new RegExp(`/requests/${key}/transition/`));
    expect(await page.textContent('h1')).to.match(/\?$/);
    expect(await page.isVisible('#transition-comment')).to.equal(true);
    await shot('transition-confirm');
    await page.click('text=Keep the request as it is');
    await page.waitForURL(`${portalUrl}/requests/${key}`);
    expect(await page.textContent('aside .lozenge')).to.equal(status);

    await page.goto(`${portalUrl}/requests?status=open&ownership=mine&q=Docking`);
    expect(await page.textContent('tbody')).to.include(key);

    // Approvals: alice is the approver of a request she has no other tie to. She finds it in My
    // requests and opens it; the page shows the approval, its approvers and where to answer (the
    // e-mail Atlassian sent her), with no button that would fail (docs/decisions/0001-...).
    const approvalOnly = 'Standing desk converter for the support team';
    const awaiting = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === approvalOnly,
    )!;
    await page.goto(`${portalUrl}/requests`);
    await page.selectOption('#flt-ownership', 'approvals');
    await page.click('button:has-text("Filter")');
    await page.waitForURL(/ownership=approvals/);
    expect(await page.textContent('main')).to.include(approvalOnly);
    await shot('approvals');
    await page.click(`text=${approvalOnly}`);
    await page.waitForURL(`${portalUrl}/requests/${awaiting.key}`);
    expect(await page.textContent('#appr-h')).to.equal('Approvals');
    expect(await page.textContent('#appr-how')).to.include(
      'answer with the Approve or Decline button in that e-mail',
    );
    expect(await page.locator('button:has-text("Approve"), button:has-text("Decline")').count()).to.equal(0);
    await shot('approval');
    await page.goto(`${portalUrl}/profile`);
    await shot('profile');
    await page.goto(`${portalUrl}/activity`);
    expect(await page.textContent('h1')).to.equal('Customer activity');
    // Names come from Atlassian; the filter finds a person by name.
    expect(await page.textContent('table.cards tbody')).to.include('Alice Anders');
    await shot('activity');
    await page.fill('#act-q', 'Alice');
    await page.click('form[aria-label="Filter activity"] button');
    await page.waitForURL(/\/activity\?q=Alice/);
    expect(await page.locator('table.cards tbody tr').count()).to.equal(1);
    await audit.check(page);
  });

  it('shows a request as native: her name on her comments, rendered bodies, thumbnails and one stream, at desktop and 390 px', async () => {
    const laptop = seeded('Laptop screen flickers');
    const requestUrl = `${portalUrl}/requests/${laptop.key}`;
    await page.goto(requestUrl);
    await page.fill('#comment-body', 'It flickers *only* on battery.');
    await page.click('button:has-text("Comment")');
    await page.waitForURL(/commented=1$/);
    const last = page.locator('ol.activity > li').last();
    expect(await last.locator('.activity-head strong').textContent()).to.equal('Alice Anders');
    expect(await last.locator('.comment-body b').textContent()).to.equal('only');
    // An upload: the customer attached a file, shown as a thumbnail served by the portal.
    const png = laptop.attachments.find((a) => a.filename === 'screen.png')!.content;
    await page.setInputFiles('#att-file', { name: 'photo.png', mimeType: 'image/png', buffer: png });
    await page.click('button:has-text("Upload")');
    await page.waitForURL(/uploaded=1$/);
    const upload = page.locator('ol.activity > li').last();
    expect((await upload.textContent())?.replace(/\s+/g, ' ')).to.match(/^ ?Alice Anders attached a file /);
    const main = (await page.textContent('main')) ?? '';
    expect(main).to.not.include('[^').and.not.include('Portal Bot').and.not.include('via the help center');
    // The thumbnails load lazily: bring each into view and wait for its load to settle before
    // judging it (checking at once failed under load with an image still in flight).
    const images = page.locator('img[src$="/thumbnail"]');
    expect(await images.count(), 'screen.png and photo.png, in the stream and the file list').to.be.at.least(
      2,
    );
    for (const image of await images.all()) {
      await image.scrollIntoViewIfNeeded();
      await image.evaluate((img: HTMLImageElement) =>
        img.complete
          ? undefined
          : new Promise((settled) => {
              img.addEventListener('load', settled, { once: true });
              img.addEventListener('error', settled, { once: true });
            }),
      );
      const t = await image.evaluate((img: HTMLImageElement) => ({
        src: new URL(img.src).pathname,
        loaded: img.complete && img.naturalWidth > 0,
      }));
      expect(t.loaded, t.src).to.equal(true);
    }
    const times = await page.$$eval('ol.activity time', (els) => els.map((e) => e.getAttribute('datetime')));
    expect(times.length).to.be.at.least(3);
    await shot('request-detail');

    // On a phone the page is one column and nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(requestUrl);
      const widths = await page.evaluate(() => ({
        document: document.documentElement.scrollWidth,
        viewport: document.documentElement.clientWidth,
      }));
      expect(widths.document, 'document scrollWidth at 390 px').to.be.at.most(widths.viewport);
      const stream = await page.locator('ol.activity').boundingBox();
      expect(stream!.width, 'the stream fits the screen').to.be.at.most(390);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    expect(consoleLines.filter((l) => /Content Security Policy|Refused/i.test(l))).to.deep.equal([]);
  });

  it('shares her request with her organization from its page, with the keyboard, and stops sharing it', async () => {
    const laptop = seeded('Laptop screen flickers');
    expect(laptop.organizationIds).to.deep.equal([]);
    try {
      await page.goto(`${portalUrl}/requests/${laptop.key}`);
      await page.selectOption('#share-organization', { label: 'Everyone in Acme Corp' });
      await page.focus('form[action$="/organizations/add"] button');
      await page.keyboard.press('Enter');
      await page.waitForURL(/shared=1$/);
      expect(await page.textContent('ul.organizations')).to.include('Everyone in Acme Corp');
      expect(laptop.organizationIds).to.have.length(1);
      await audit.check(page);
      await page.click('button:has-text("Stop sharing")');
      await page.locator('ul.organizations').waitFor({ state: 'detached' });
      expect(laptop.organizationIds).to.deep.equal([]);
      expect(await page.locator('#share-organization option').allTextContents()).to.deep.equal([
        'Everyone in Acme Corp',
      ]);
    } finally {
      // The later journeys read this request as it was seeded.
      laptop.organizationIds = [];
    }
  });

  it('shares her request with a colleague on a page of its own, with the keyboard (ADR 0263)', async () => {
    const laptop = seeded('Laptop screen flickers');
    const participants = [...laptop.participantIds];
    try {
      await page.goto(`${portalUrl}/requests/${laptop.key}`);
      await page.focus('a[href$="/share"]');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${portalUrl}/requests/${laptop.key}/share`);
      await audit.check(page);
      await page.selectOption('#share-with', { label: 'Bob Brown' });
      await page.focus('form[action$="/participants/add"] button');
      await page.keyboard.press('Enter');
      await page.waitForURL(/shared=1$/);
      expect(laptop.participantIds).to.have.length(participants.length + 1);
    } finally {
      // The later journeys read this request as it was seeded.
      laptop.participantIds = participants;
    }
  });

  it('sends a file with her comment, as the native comment editor takes one', async () => {
    const request = seeded('Password expired while on holiday');
    await page.goto(`${portalUrl}/requests/${request.key}`);
    await page.fill('#comment-body', 'The error shown at sign-in.');
    await page.setInputFiles('#comment-files', {
      name: 'sign-in-error.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Your password has expired.'),
    });
    await page.click('button:has-text("Comment")');
    await page.waitForURL(/commented=1$/);
    const last = page.locator('ol.activity > li').last();
    expect(await last.locator('.activity-head strong').textContent()).to.equal('Alice Anders');
    expect(await last.locator('.comment-body').textContent()).to.include('The error shown at sign-in.');
    expect(await last.locator('ul.files').textContent()).to.include('sign-in-error.txt');
    expect(request.attachments.map((a) => a.filename)).to.include('sign-in-error.txt');
    await audit.check(page);
  });

  it('browses desk groups with icons, raises on behalf of a colleague with a keyboard multi-select, and filters My requests, at desktop and at 390 px', async () => {
    const wide = async (width: number, what: string) => {
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scroll, `${what}: document scrollWidth at ${width} px`).to.be.at.most(width);
    };
    const hardware = [...emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Request new hardware',
    )!;
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      // Item 5: groups on the left (above on a phone), icons loaded through the portal.
      await page.goto(`${portalUrl}/desk/1`);
      await page.click('nav.groups a:has-text("Hardware & software")');
      await page.waitForURL(/\?group=/);
      expect(
        await page.getAttribute('nav.groups a:has-text("Hardware & software")', 'aria-current'),
      ).to.equal('page');
      expect(await page.locator('ul.types img').count()).to.equal(3);
      // Every icon loads (waited for: images load after the page under a busy machine).
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll<HTMLImageElement>('ul.types img')).every(
          (i) => i.complete && i.naturalWidth > 0,
        ),
      );
      await wide(width, 'desk page');
      // axe at both widths (the viewport is put back).
      if (width === 1280) await audit.check(page);

      // Item 6: a multi-select answered with the keyboard, on behalf of Bob, shared with Acme Corp.
      await page.click('a:has-text("Request new hardware")');
      const summary = `Monitor for Bob (${width} px)`;
      await page.fill('#fld-summary', summary);
      const items = page.locator('fieldset:has(legend:has-text("Items")) input[type="checkbox"]');
      await items.nth(0).focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Space');
      await page.selectOption('#on-behalf', { label: 'Bob Brown' });
      await page.check('label:has-text("Everyone in Acme Corp")');
      await wide(width, 'raise form');
      if (width === 1280) await shot('raise-on-behalf');
      await page.click('button:has-text("Send")');
      await page.waitForURL(/\/requests\/IT-\d+\?created=1$/);
      const raised = [...emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
      expect(emulator.state.users.get(raised.reporterId)!.displayName).to.equal('Bob Brown');
      expect(raised.organizationIds).to.have.length(1);
      expect(
        (
          raised.fieldValues[hardware.fields.find((f) => f.name === 'Items')!.fieldId] as { value: string }[]
        ).map((o) => o.value),
      ).to.deep.equal(['Monitor', 'Dock']);

      // Item 7: filter by desk and request type, oldest first; the desk and type are columns.
      await page.goto(`${portalUrl}/requests?status=all`);
      await page.selectOption('#flt-type', `1:${hardware.id}`);
      await page.selectOption('#flt-sort', 'created-asc');
      await page.click('button:has-text("Filter")');
      await page.waitForURL(/sort=created-asc/);
      const types = await page.$$eval('td[data-label="Request type"]', (tds) =>
        tds.map((td) => td.textContent),
      );
      expect(types.length).to.be.greaterThan(1);
      expect(new Set(types)).to.deep.equal(new Set(['Request new hardware']));
      expect(await page.textContent('tbody tr:last-child')).to.include(summary);
      expect(await page.textContent('nav.paging')).to.match(/Requests 1–\d+ of \d+/);
      await wide(width, 'My requests with filters');
      if (width === 1280) await shot('my-requests-filtered');
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('gives a comment back after the session ended mid-submit (kept in the browser tab), and sends it once', async () => {
    const target = seeded('Printer on 3rd floor jams every morning');
    const requestUrl = `${portalUrl}/requests/${target.key}`;
    await page.goto(requestUrl);
    const text = 'Typed while my session ran out.';
    await page.fill('#comment-body', text);
    // The session ends while the customer writes (its cookie is gone, as after an idle timeout).
    await page.context().clearCookies();
    await page.click('button:has-text("Comment")');
    expect(await page.textContent('h1')).to.equal('Signed out');
    await audit.check(page);
    expect(target.comments.some((c) => c.body.includes(text))).to.equal(false);
    await page.click('a:has-text("Sign in")');
    await signInAtIdp(requestUrl);
    expect(await page.inputValue('#comment-body')).to.equal(text);
    await page.click('button:has-text("Comment")');
    await page.waitForURL(/commented=1$/);
    expect(target.comments.filter((c) => c.body.includes(text))).to.have.length(1);
    // Written: the tab forgets the draft.
    await page.goto(requestUrl);
    expect(await page.inputValue('#comment-body')).to.equal('');
    expect(consoleLines.filter((l) => /Content Security Policy|Refused/i.test(l))).to.deep.equal([]);
  });

  it('speaks German to a German browser in its own time zone, switches language, and lays out long words and right-to-left at 390 px', async () => {
    // A second browser profile: German, in Berlin, signed in as alice (her session cookie).
    const { context, page: de, lines } = await profile({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    try {
      await context.addCookies(await page.context().cookies());
      const laptop = seeded('Laptop screen flickers');
      /** Nothing scrolls sideways at 390 px. */
      const fitsPhone = async (what: string) => {
        await de.setViewportSize(PHONE);
        const widths = await de.evaluate(() => ({
          document: document.documentElement.scrollWidth,
          viewport: document.documentElement.clientWidth,
        }));
        await de.setViewportSize(DESKTOP);
        expect(widths.document, `${what}: scrollWidth at 390 px`).to.be.at.most(widths.viewport);
      };
      const root = () => de.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);

      await de.goto(`${portalUrl}/`);
      expect(await root()).to.deep.equal(['de', 'ltr']);
      expect(await de.textContent('.hero h1')).to.equal('Willkommen bei Acme Help Center');
      expect(await de.textContent('.announcement p')).to.equal('Geplante Wartung am Samstag, 10–12 Uhr UTC.');
      await audit.check(de, 'help-center-de');
      await de.click('text=IT Help');
      expect(await de.textContent('label[for="rt-q"]')).to.equal(catalogueOf('de')['desk.searchAll']);
      await audit.check(de);

      await de.goto(`${portalUrl}/requests?status=all&ownership=all`);
      expect(await de.textContent('h1')).to.equal('Anfragen');
      expect(await de.locator('table.cards td[data-label="Erstellt"]').count()).to.be.greaterThan(0);
      await audit.check(de, 'my-requests-de');
      await fitsPhone('My requests in German');

      // A raise form sent with its problems: each said in German beside its field, nothing English.
      await de.goto(`${portalUrl}/desk/1?q=hardware`);
      await de.click('text=Request new hardware');
      await de.fill('input[type="number"]', '12');
      await de.fill('input[type="url"]', 'ftp://files.acme.test/angebot.pdf');
      await de.click('button:has-text("Senden")');
      await de.waitForSelector('.form-field .error');
      const problems = await de.$$eval('.error[role="alert"]', (els) => els.map((e) => e.textContent ?? ''));
      expect(problems).to.include.members([
        'Summary ist ein Pflichtfeld.',
        'Items ist ein Pflichtfeld.',
        'Product link muss eine Webadresse sein, die mit https:// oder http:// beginnt.',
      ]);
      expect(englishIn(await de.content(), 'de')).to.deep.equal([]);
      await audit.check(de);
      await fitsPhone('a refused raise form in German');

      // The request in German, its times in the browser's zone (the script told the portal: MEZ).
      const longWord = 'Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenaufbewahrungsschachtel';
      await de.goto(`${portalUrl}/requests/${laptop.key}`);
      await de.fill('#comment-body', `Betrifft: ${longWord}`);
      await de.click('button:has-text("Kommentieren")');
      await de.waitForURL(/commented=1$/);
      expect(await de.textContent('#act-h')).to.equal('Aktivität');
      expect(await de.getAttribute('html', 'data-time-zone')).to.equal('Europe/Berlin');
      const titles = await de.$$eval('ol.activity time', (els) =>
        els.map((e) => e.getAttribute('title') ?? ''),
      );
      expect(titles.length).to.be.at.least(2);
      for (const title of titles) expect(title).to.match(/^\d{1,2}\. \S+ \d{4}, \d\d:\d\d MEZ$/);
      expect(await de.textContent('ol.activity > li:last-child time')).to.match(
        /^(jetzt|vor \d+ Sekunden?)$/,
      );
      await audit.check(de, 'request-detail-de');
      await fitsPhone('request detail with a long German word');

      // The switcher: French, back on the same page.
      await de.click('footer a[hreflang="fr"]');
      await de.waitForURL(`${portalUrl}/requests/${laptop.key}**`);
      expect(await root()).to.deep.equal(['fr', 'ltr']);
      expect(await de.textContent('#act-h')).to.equal('Activité');

      // Pseudo-locales: 40 % longer accented text, and right to left. No page scrolls sideways.
      for (const [locale, dir] of [
        ['en-XA', 'ltr'],
        ['ar-XB', 'rtl'],
      ] as const) {
        await de.goto(`${portalUrl}/requests/${laptop.key}`);
        await de.click(`footer a[hreflang="${locale}"]`);
        await de.waitForURL(`${portalUrl}/requests/${laptop.key}`);
        expect(await root()).to.deep.equal([locale, dir]);
        for (const path of [
          '/',
          '/requests?status=all&ownership=all',
          `/requests/${laptop.key}`,
          '/profile',
        ]) {
          await de.goto(`${portalUrl}${path}`);
          await fitsPhone(`${locale} ${path}`);
        }
      }
      await de.goto(`${portalUrl}/requests/${laptop.key}`);
      await de.setViewportSize(PHONE);
      await de.screenshot({ path: join(shots, 'request-detail-rtl-narrow.png'), fullPage: true });
      expect(lines.filter((l) => /Content Security Policy|Refused/i.test(l))).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('signs in, searches the knowledge base, raises, comments, attaches, confirms a transition, filters My requests, answers where approvals go and ends sessions, entirely in German, at desktop and at 390 px', async () => {
    // A German browser with no session: every page from the broker's chooser to My requests speaks German.
    const { context, page: de, lines } = await profile({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    const { t } = createTranslator({ locale: 'de', timeZone: 'Europe/Berlin' });
    const site = 'Acme Help Center';
    /** The page is German, and what `selector` shows is the catalogue's German for it. */
    const expectGerman = async (selector: string, text: string) => {
      expect(await de.evaluate(() => document.documentElement.lang), de.url()).to.equal('de');
      expect((await de.textContent(selector))?.trim(), selector).to.equal(text);
    };
    /** Nothing scrolls sideways at the width the page is shown at. */
    const fits = async (what: string) => {
      const widths = await de.evaluate(() => ({
        document: document.documentElement.scrollWidth,
        viewport: document.documentElement.clientWidth,
      }));
      expect(widths.document, `${what}: scrollWidth`).to.be.at.most(widths.viewport);
    };
    /**
     * The page without the workflow's status names: Jira's own words (as native shows them), which may
     * match a catalogue phrase ("Waiting for approval") without being a leak. Approval outcomes stay.
     */
    const withoutStatusNames = () =>
      de.evaluate(
        (names) => {
          const copy = document.documentElement.cloneNode(true) as HTMLElement;
          for (const lozenge of Array.from(copy.querySelectorAll('.lozenge')))
            if (!lozenge.closest('.approval') && names.includes(lozenge.textContent?.trim() ?? ''))
              lozenge.remove();
          return copy.outerHTML;
        },
        STATUSES.map((s) => s.name),
      );
    /** At the width shown: it fits, no English phrase of the catalogue; axe (at both widths) on the desktop pass. */
    const settled = async (what: string) => {
      await fits(what);
      expect(englishIn(await withoutStatusNames(), 'de'), `English on ${what}`).to.deep.equal([]);
      if (de.viewportSize()?.width === DESKTOP.width) await audit.check(de);
    };
    const approvalOnly = seeded('Standing desk converter for the support team');
    try {
      // A refusal at the broker (a sign-in address opened without the portal's request) is German too.
      const refused = await de.goto(`${brokerUrl}/saml/sso`);
      expect(refused?.status()).to.equal(400);
      await expectGerman('h1', t('broker.refused.title'));
      expect(await de.textContent('main code')).to.equal('SAML_BINDING_INVALID');
      await audit.check(de);
      await de.goto(`${portalUrl}/requests`);
      await de.waitForSelector('button[name="idp"]');
      await expectGerman('h1', t('broker.choose.heading', { site }));
      expect(await de.textContent('form:has(input[name="email"]) button')).to.equal(t('broker.continue'));
      await audit.check(de);
      await signInAtIdp(`${portalUrl}/requests**`, de);
      await expectGerman('h1', t('requests.title'));
      await audit.check(de);

      for (const viewport of [DESKTOP, PHONE]) {
        await de.setViewportSize(viewport);
        const at = `${viewport.width} px`;
        await de.goto(`${portalUrl}/`);
        await expectGerman('.hero h1', t('home.welcome', { site }));
        await settled(`help center at ${at}`);
        await de.click('main a:has-text("IT Help")');
        await de.waitForURL(`${portalUrl}/desk/1`);
        await expectGerman('label[for="rt-q"]', t('desk.searchAll'));
        await settled(`desk at ${at}`);

        // The raise form, sent with its summary empty (as a browser that does not check `required`
        // would): the portal answers with the form again, its errors in German.
        await de.click('a:has-text("Get IT help")');
        await de.waitForURL(/\/desk\/1\/create\//);
        await expectGerman('form button[type="submit"]', t('create.send'));
        const description = `Seit Montag lädt die Dockingstation den Laptop nicht (${at}).`;
        await de.fill('#fld-description', description);
        await de.$eval('form:has(#fld-summary)', (form: HTMLFormElement) => {
          form.noValidate = true;
        });
        await de.click('form button[type="submit"]');
        await de.waitForSelector('#fld-summary-err');
        await expectGerman('.alert[role="alert"]', t('create.needsAttention'));
        const error = (await de.textContent('#fld-summary-err')) ?? '';
        expect(error).to.not.equal('');
        expect(wordsOutsideCatalogue(error, 'de'), `German field error: ${error}`).to.deep.equal([]);
        expect(await de.inputValue('#fld-description'), 'kept').to.equal(description);
        await settled(`raise form with an error at ${at}`);

        const summary = `Dockingstation lädt nicht (${at})`;
        await de.fill('#fld-summary', summary);
        await de.click('form button[type="submit"]');
        await de.waitForURL(/\/requests\/IT-\d+\?created=1$/);
        await expectGerman('p.notice', t('request.notice.created'));
        await expectGerman('#act-h', t('request.activity'));
        expect(await de.textContent('h1')).to.equal(summary);
        await settled(`request detail at ${at}`);
        const key = /\/requests\/(IT-\d+)/.exec(de.url())![1]!;

        // The activity stream: her comment and her upload, in German, under her name.
        const comment = `Der Bildschirm bleibt auch dunkel (${at}).`;
        await de.fill('#comment-body', comment);
        await de.click(`button:has-text("${t('request.comment')}")`);
        await de.waitForURL(/commented=1$/);
        await expectGerman('p.notice', t('request.notice.commented'));
        expect(await de.textContent('ol.activity > li:last-child')).to.include(comment);
        await de.setInputFiles('#att-file', {
          name: 'protokoll.txt',
          mimeType: 'text/plain',
          buffer: Buffer.from('Ladeprotokoll'),
        });
        await de.click(`button:has-text("${t('request.upload')}")`);
        await de.waitForURL(/uploaded=1$/);
        await expectGerman('p.notice', t('request.notice.uploaded'));
        expect((await de.textContent('ol.activity > li:last-child'))?.replace(/\s+/g, ' ')).to.match(
          /^ ?Alice Anders hat eine Datei angehängt /,
        );
        expect(await de.textContent('main')).to.include('protokoll.txt');
        await settled(`request detail with a comment and a file at ${at}`);

        // A transition asks first, in German, with an optional comment that goes with it.
        const transition = (await de.textContent('aside a.button.secondary >> nth=0'))!.trim();
        await de.click('aside a.button.secondary >> nth=0');
        await de.waitForURL(new RegExp(`/requests/${key}/transition/`));
        await expectGerman('h1', t('transition.question', { transition }));
        await expectGerman('label[for="transition-comment"]', t('transition.comment'));
        await expectGerman(`form a[href="/requests/${key}"]`, t('transition.keep'));
        await settled(`transition confirmation at ${at}`);
        const why = `Erledigt mit neuem Netzteil (${at}).`;
        await de.fill('#transition-comment', why);
        await de.click('form button[type="submit"]');
        await de.waitForURL(/moved=1$/);
        await expectGerman('p.notice', t('request.notice.moved'));
        expect(await de.textContent('ol.activity')).to.include(why);
        await settled(`request detail after "${transition}" at ${at}`);

        // Resolved or cancelled now, so among all her requests rather than the open ones.
        await de.goto(`${portalUrl}/requests?status=all`);
        await expectGerman('h1', t('requests.title'));
        expect(await de.textContent('main')).to.include(summary);
        await settled(`My requests at ${at}`);

        // My requests' filters, sorting and paging: the approvals asked of her, oldest first.
        await de.selectOption('#flt-ownership', 'approvals');
        await de.selectOption('#flt-sort', 'created-asc');
        await de.click(`form button:has-text("${t('requests.filter')}")`);
        await de.waitForURL(/ownership=approvals/);
        expect(de.url()).to.include('sort=created-asc');
        await expectGerman('label[for="flt-sort"]', t('requests.sortBy'));
        expect(await de.getAttribute('nav.paging', 'aria-label')).to.equal(t('requests.pages'));
        expect(await de.textContent('nav.paging p')).to.match(/^Anfragen 1–\d+( von (etwa )?\d+)?$/);
        await settled(`My requests filtered at ${at}`);

        // The approval: its status, its approvers and how to answer, in German, with no button.
        await de.click(`text=${approvalOnly.fieldValues['summary']}`);
        await de.waitForURL(`${portalUrl}/requests/${approvalOnly.key}`);
        await expectGerman('#appr-h', t('approvals.title'));
        await expectGerman('.approval .lozenge', t('approvals.outcome.pending'));
        expect(await de.textContent('ul.approvers')).to.include(
          t('approvals.approver', {
            name: 'Alice Anders',
            you: 'yes',
            answer: t('approvals.answer.pending'),
          }),
        );
        expect(await de.textContent('#appr-how')).to.include('E-Mail');
        expect(await de.locator('.approval button').count()).to.equal(0);
        await settled(`approval at ${at}`);

        // The one "How can we help?" search finds an article, which opens with German around it.
        await de.goto(`${portalUrl}/`);
        await de.fill('#kb-q', 'VPN');
        await de.click('form[role="search"] button');
        await de.waitForURL(/\?q=VPN$/);
        await expectGerman('#kb-h', t('home.knowledgeBase'));
        await settled(`help center search at ${at}`);
        await de.click('a:has-text("Connect to the VPN")');
        await de.waitForURL(/\/desk\/1\/article\//);
        expect(await de.textContent('article')).to.include('Choose Acme VPN and sign in');
        await settled(`knowledge base article at ${at}`);

        // Admins (alice is one): names from Atlassian, a filter, and ending a customer's sessions.
        await de.goto(`${portalUrl}/activity`);
        await expectGerman('h1', t('activity.heading'));
        await settled(`activity at ${at}`);
        await de.fill('#act-q', 'Carol');
        await de.click(`form[aria-label="${t('activity.filter')}"] button`);
        await de.waitForURL(/\/activity\?q=Carol/);
        expect(await de.locator('table.cards tbody tr').count()).to.equal(1);
        expect(await de.textContent('table.cards tbody')).to.include('Carol Chen');
        await de.click(`button[aria-label="${t('activity.endSessionsOf', { name: 'Carol Chen' })}"]`);
        await de.waitForURL(/\/activity\?revoked=/);
        await expectGerman('p.notice', t('activity.revoked', { name: 'Carol Chen' }));
        await settled(`activity after ending sessions at ${at}`);
      }
      expect(lines.filter((l) => /Content Security Policy|Refused/i.test(l))).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('speaks Japanese, in a CJK font, on the portal and at the broker, which follows the portal’s switcher over the browser’s language', async () => {
    // Without a CJK font Chromium draws boxes; .ci/run installs fonts-noto-cjk.
    const fonts = spawnSync('fc-list', [':lang=ja', 'family'], { encoding: 'utf8' }).stdout ?? '';
    expect(fonts.trim(), 'a Japanese font (Debian: fonts-noto-cjk)').to.not.equal('');
    // An English browser whose customer chose Japanese on the portal.
    const { context, page: ja } = await profile({ locale: 'en-US' });
    const { t } = createTranslator({ locale: 'ja', timeZone: 'UTC' });
    try {
      await ja.goto(`${portalUrl}/`);
      await ja.click('footer a[hreflang="ja"]');
      await ja.waitForFunction(() => document.documentElement.lang === 'ja');
      expect(await ja.textContent('.hero h1')).to.equal(t('home.welcome', { site: 'Acme Help Center' }));
      await audit.check(ja, 'help-center-ja');
      // The portal's AuthnRequest carries its language: the broker's chooser is Japanese too.
      await ja.goto(`${portalUrl}/requests`);
      await ja.waitForSelector('button[name="idp"]');
      expect(await ja.evaluate(() => document.documentElement.lang)).to.equal('ja');
      expect(await ja.textContent('h1')).to.equal(t('broker.choose.heading', { site: 'Acme Help Center' }));
      await audit.check(ja, 'broker-sign-in-ja');
      // An address no IdP speaks for: the chooser again, its notice in Japanese (the flow keeps the language).
      const discovery = ja.locator('form:has(input[name="email"])');
      await discovery.locator('input[name="email"]').fill('someone@elsewhere.test');
      await discovery.locator('button[type="submit"]').click();
      await ja.waitForURL(`${brokerUrl}/saml/choose`);
      expect(await ja.textContent('p[role="alert"]')).to.equal(t('broker.choose.noMethodForDomain'));
      await audit.check(ja);
    } finally {
      await context.close();
    }
  });

  it('checked every page the journeys showed, on the portal and the broker, with axe at both widths', () => {
    // The broker's OIDC callbacks (one per IdP) are a form that posts itself to the portal at once.
    expect(
      audit.unchecked(['broker /oidc/callback/acme-dev', 'broker /oidc/callback/partner-dev']),
    ).to.deep.equal([]);
  });
});
