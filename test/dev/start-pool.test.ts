import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PoolTenantStatus } from '../../dev/pool-stack.js';
import { fetchLocal } from '../../dev/stack.js';
import { launchChromium } from '../../testkit/chromium.js';
import {
  expectCtrlCStopsEverything,
  expectProgressBeforeReady,
  folderNamedIn,
  killDevStack,
  type RunningDevStack,
  startDevStack,
} from '../../testkit/dev-stack.js';
import { eventually } from '../../testkit/envtest.js';
import { checkMetricsAt } from '../../testkit/metrics-scan.js';

interface PoolStackStatus {
  placement: string;
  tenants: PoolTenantStatus[];
  idp: string;
  management: { broker: string; portal: string };
  poolDir: string;
}

const COMPANIES: Record<string, string> = { acme: 'Acme', initech: 'Initech', hooli: 'Hooli' };

// `npm start -- --pool`: three tenants on their own .localhost hosts, one broker and one portal process.
describe('npm start -- --pool (a local pool)', function () {
  this.timeout(240_000);
  let stack: RunningDevStack<PoolStackStatus>;
  let status: PoolStackStatus;
  let browser: Browser | undefined;

  before(async () => {
    stack = await startDevStack<PoolStackStatus>(['--pool']);
    status = stack.status;
  });

  after(async () => {
    await browser?.close();
    killDevStack(stack);
  });

  it('serves at least three tenants, each on its own .localhost host, from one broker and one portal port', async () => {
    expect(status.placement).to.equal('pool');
    expect(status.tenants.map((t) => t.name)).to.have.members(Object.keys(COMPANIES));
    for (const part of ['portal', 'broker'] as const) {
      const urls = status.tenants.map((t) => new URL(t[part]));
      expect(new Set(urls.map((u) => u.port)).size, part).to.equal(1);
      expect(new Set(urls.map((u) => u.hostname)).size, part).to.equal(status.tenants.length);
      for (const [i, url] of urls.entries())
        expect(url.hostname).to.equal(`${status.tenants[i]!.name}.localhost`);
    }
    // Each tenant has its own emulated Atlassian site.
    expect(new Set(status.tenants.map((t) => t.jsmEmulator)).size).to.equal(status.tenants.length);
    expect((await fetchLocal(`${status.management.broker}/readyz`)).status).to.equal(200);
    expect((await fetchLocal(`${status.management.portal}/readyz`)).status).to.equal(200);
    // Every tenant was built by the one broker-pool and the one portal-pool process, and the stack ran
    // no other broker or portal. A tenant's line may reach the stack's output a moment after the page
    // that made the stack ready (two pipes, no order between them): waited for, not assumed.
    const builtBy = (process: string) =>
      stack
        .output()
        .split('\n')
        .filter((l) => l.startsWith(`[${process}] `) && l.includes('"event":"pool.tenant_built"'))
        .map((l) => (JSON.parse(l.slice(process.length + 3)) as { tenant: string }).tenant)
        .sort();
    const everyTenant = Object.keys(COMPANIES).sort().join();
    await eventually(
      async () => ['broker-pool', 'portal-pool'].every((process) => builtBy(process).join() === everyTenant),
      'a pool.tenant_built line of each tenant from each pool process',
      10_000,
    ).catch(() => undefined);
    for (const process of ['broker-pool', 'portal-pool']) {
      expect(builtBy(process), process).to.deep.equal(Object.keys(COMPANIES).sort());
    }
    const lines = stack.output().split('\n');
    const children = new Set(lines.flatMap((l) => /^\[([\w/-]+)\] /.exec(l)?.[1] ?? []));
    children.delete('dev');
    expect([...children].sort()).to.deep.equal(
      ['broker-pool', 'idp', 'portal-pool', ...status.tenants.map((t) => `jsm-emulator/${t.name}`)].sort(),
    );
  });

  it('answers a host it does not serve with 404 POOL_TENANT_UNKNOWN', async () => {
    const unknown = new URL(status.tenants[0]!.portal);
    unknown.hostname = 'nobody.localhost';
    const response = await fetchLocal(`${unknown.origin}/`);
    expect(response.status).to.equal(404);
    expect(await response.text()).to.include('POOL_TENANT_UNKNOWN');
  });

  it('tells its progress before the ready banner, tenant by tenant', () => {
    expectProgressBeforeReady(stack.output(), [
      'starting a local pool',
      'tenant bundles written',
      'dev IdP ready',
      'JSM emulators ready',
      'broker pool ready',
      'portal pool ready',
      ...status.tenants.map((t) => `${t.name} served at ${t.portal}`),
    ]);
  });

  it('signs alice in with Chromium at two tenants; each portal shows only its own site', async () => {
    browser = await launchChromium();
    // One browser, as a person with two help centers open: cookies are per host, so the two sessions
    // stay apart, and a signed-in session at one tenant is not one at the other.
    const context = await browser.newContext();
    const [first, second] = status.tenants;
    await signInAt(context, first!, status.idp);
    // The first tenant's cookies, sent to the second tenant's host of the same portal process, are
    // no session there: it sends the visitor to sign in.
    const cookies = await context.cookies(first!.portal);
    expect(cookies, 'a session at the first tenant').not.to.be.empty;
    expect(await context.cookies(second!.portal)).to.be.empty;
    const replayed = await fetchLocal(`${second!.portal}/requests`, {
      headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
      redirect: 'manual',
    });
    expect(replayed.status, 'first tenant session at the second').to.be.within(300, 399);
    expect(replayed.headers.get('location')).to.match(/\/login/);
    await signInAt(context, second!, status.idp);
    await context.close();
    // Her flows counted, nothing of her in a series (her lines were read as they came: startDevStack).
    for (const part of ['broker', 'portal'] as const)
      await checkMetricsAt(status.management[part], `npm start's ${part} pool`);
  });

  it('stops everything on Ctrl-C and removes its temporary folder', async () => {
    const portalPort = new URL(status.tenants[0]!.portal).port;
    const brokerPort = new URL(status.tenants[0]!.broker).port;
    await expectCtrlCStopsEverything(stack, (output) => folderNamedIn(output, 'Pool folder: '), [
      `http://127.0.0.1:${portalPort}/`,
      `http://127.0.0.1:${brokerPort}/`,
      status.management.broker,
      status.management.portal,
      status.idp,
      ...status.tenants.map((t) => t.jsmEmulator),
    ]);
  });
});

/**
 * alice signs in at `tenant`'s portal (through its broker and the dev IdP, or straight back when the
 * IdP remembers her), and sees that tenant's help center and site: its desks, no other company's.
 */
async function signInAt(context: BrowserContext, tenant: PoolTenantStatus, idp: string): Promise<void> {
  const page: Page = await context.newPage();
  const company = COMPANIES[tenant.name]!;
  const where = async (err: Error) => {
    throw new Error(
      `${err.message}\nat ${page.url()}: ${(await page.textContent('body').catch(() => ''))?.slice(0, 500)}`,
    );
  };
  try {
    await page.goto(`${tenant.portal}/`).catch(where);
    await page
      .waitForURL((url) => url.origin === new URL(idp).origin || url.origin === tenant.portal, {
        timeout: 60_000,
      })
      .catch(where);
    if (new URL(page.url()).origin === new URL(idp).origin) {
      await page.fill('input[name="email"]', 'alice@acme.test');
      await page.fill('input[name="password"]', 'demo');
      await page.click('button[type="submit"]');
    }
    await page.waitForURL(`${tenant.portal}/**`, { timeout: 60_000 }).catch(where);
    await page.waitForSelector(`text=${company} Help Center`).catch(where);
    const home = (await page.textContent('body')) ?? '';
    expect(home).to.include(`${company} IT Help`);
    for (const other of Object.values(COMPANIES).filter((c) => c !== company)) {
      expect(home, `${company} portal`)
        .not.to.include(`${other} IT Help`)
        .and.not.to.include(`${other} Help Center`);
    }
    await page.goto(`${tenant.portal}/requests`);
    expect(await page.textContent('h1')).to.equal('Requests');
    expect(await page.textContent('body')).to.include('Printer on 3rd floor jams every morning');
  } finally {
    await page.close();
  }
}
