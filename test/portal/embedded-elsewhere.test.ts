// Another origin's page can have a customer's browser ask the portal for its pages as images, frames
// or fetches: a page of the same site (a sibling subdomain) with her SameSite=Lax session cookie, any
// site without it. Cross-Origin-Resource-Policy, CORS and frame-ancestors keep every answer from that
// page, but the portal did the work: each counted against her pages and asked Atlassian, and each
// `/login` started a sign-in against her address's budget (ADR 0262, Left). Refused on Fetch Metadata
// before anything is read or counted (ADR 0271); a link to a page (a navigation) still works.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Browser as Chromium, Page } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal: a page asked for by another origin’s page', function () {
  this.timeout(60_000);
  let h: Harness;
  let chromium: Chromium;
  let elsewhere: Server;
  /** The body the other origin's page has, set by each test. */
  let otherPage = '';
  before(async () => {
    h = await startHarness({
      portal: { limits: { signedInPages: { perAccount: 5 }, signInStarts: { perIp: 3 } } },
    });
    elsewhere = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(otherPage);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    elsewhere?.close();
    await h?.close();
  });

  const port = () => (elsewhere.address() as AddressInfo).port;
  /** The same site as the portal (127.0.0.1, another port): the session cookie goes with its requests. */
  const sameSite = () => `http://127.0.0.1:${port()}`;
  /** Another site (localhost is not 127.0.0.1). */
  const crossSite = () => `http://localhost:${port()}`;

  /** A tab signed in as `email`. */
  async function signedInTab(email: string) {
    const context = await chromium.newContext();
    const customer = await signIn(h, email);
    await context.addCookies([...customer.cookies].map(([name, value]) => ({ name, value, url: h.url })));
    return { context, page: await context.newPage() };
  }

  /** Opens the other origin's page, `body`, in the tab and waits for its `asked` requests to the portal to end. */
  async function open(page: Page, origin: string, body: string, asked: number): Promise<void> {
    otherPage = body;
    let ended = 0;
    const allEnded = new Promise<void>((resolve) => {
      const end = (r: { url(): string }) => {
        if (r.url().startsWith(h.url) && ++ended === asked) resolve();
      };
      page.on('requestfinished', end);
      page.on('requestfailed', end);
    });
    await page.goto(`${origin}/`);
    await allEnded;
  }

  it('serves no page to an image, a frame or a fetch of a page of the same site: nothing counted, nothing asked of Atlassian', async () => {
    const reads = [
      ...[1, 2, 3, 4, 5, 6].map((i) => `<img src="${h.url}/requests?q=x${i}" alt="">`),
      `<iframe src="${h.url}/requests?q=frame"></iframe>`,
      `<script>fetch('${h.url}/requests?q=fetch', { mode: 'no-cors', credentials: 'include' })</script>`,
    ];
    const { context, page } = await signedInTab('alice@acme.test');
    try {
      const calls = h.exchanges.length;
      const from = h.logs.length;
      await open(
        page,
        sameSite(),
        `${reads.join('')}<a id="go" href="${h.url}/requests">My requests</a>`,
        reads.length,
      );
      expect(h.exchanges.length, 'Atlassian calls for the other page').to.equal(calls);
      expect(reasons(h, from)).to.deep.equal(Array(reads.length).fill('PORTAL_EMBEDDED_ELSEWHERE'));
      // Her own pages are hers to read, and a link from that page (a navigation) is one of them.
      const answer = page.waitForResponse(`${h.url}/requests`);
      await page.click('#go');
      expect((await answer).status()).to.equal(200);
      expect(await page.textContent('h1')).to.equal('Requests');
    } finally {
      await context.close();
    }
  });

  it('starts no sign-in for an image of /login on any site, so the address’s sign-ins are left', async () => {
    const images = [1, 2, 3, 4].map((i) => `<img src="${h.url}/login?return=/x${i}" alt="">`);
    const { context, page } = await signedInTab('bob@acme.test');
    try {
      const from = h.logs.length;
      await open(page, crossSite(), images.join(''), images.length);
      expect(reasons(h, from)).to.deep.equal(Array(images.length).fill('PORTAL_EMBEDDED_ELSEWHERE'));
      // bob's sign-in above was one start of the address's three: the customer's own is taken.
      const started = page.waitForResponse((r) => r.url().startsWith(`${h.url}/login`));
      await page.goto(`${h.url}/login?return=/requests`).catch(() => undefined);
      expect((await started).status()).to.equal(303);
    } finally {
      await context.close();
    }
  });
});
