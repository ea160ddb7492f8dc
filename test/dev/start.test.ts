import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { packageRoot } from '../../common/paths.js';
import { DEV_CLIENT_ID } from '../../dev/tenant.js';
import { Browser, formFields, loginAtDevIdp } from '../../testkit/broker-harness.js';
import {
  expectCtrlCStopsEverything,
  expectProgressBeforeReady,
  folderNamedIn,
  killDevStack,
  type RunningDevStack,
  startDevStack,
} from '../../testkit/dev-stack.js';
import { checkMetricsAt } from '../../testkit/metrics-scan.js';
import { checkLogLinesOf } from '../../testkit/part-process.js';

interface StackStatus {
  portal: string;
  broker: string;
  idp: string;
  partnerIdp: string;
  jsmEmulator: string;
  management: { broker: string; portal: string };
}

// Runs `npm start` itself (the CLI from source through tsx), as a newcomer would.
describe('npm start', function () {
  this.timeout(180_000);
  let stack: RunningDevStack<StackStatus>;
  let status: StackStatus;

  before(async () => {
    stack = await startDevStack<StackStatus>();
    status = stack.status;
  });

  after(() => killDevStack(stack));

  it('brings up every component on loopback, each healthy', async () => {
    for (const url of [status.portal, status.broker, status.idp, status.jsmEmulator]) {
      expect(new URL(url).hostname).to.equal('127.0.0.1');
    }
    expect((await fetch(`${status.management.broker}/readyz`)).status).to.equal(200);
    expect((await fetch(`${status.management.portal}/readyz`)).status).to.equal(200);
    const discovery = (await (await fetch(`${status.idp}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).to.equal(status.idp);
    const auth = `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`;
    expect(
      (
        await fetch(`${status.jsmEmulator}/rest/servicedeskapi/servicedesk`, {
          headers: { authorization: auth },
        })
      ).status,
    ).to.equal(200);
    expect((await fetch(`${status.broker}/saml/metadata`)).status).to.equal(200);
    expect((await fetch(`${status.portal}/saml/metadata`)).status).to.equal(200);
  });

  it('tells its progress part by part before the ready banner', () => {
    expectProgressBeforeReady(stack.output(), [
      'starting the JSM emulator',
      'dev IdP ready',
      'JSM emulator ready',
      'broker ready',
      'portal ready',
    ]);
  });

  it('sends a visitor of the portal to sign in through the broker', async () => {
    const login = await fetch(`${status.portal}/login`, { redirect: 'manual' });
    expect(login.status).to.be.within(300, 399);
    expect(login.headers.get('location')).to.match(new RegExp(`^${status.broker}/saml/sso\\?SAMLRequest=`));
    // Two IdPs (acme and partner): the broker asks where the visitor signs in.
    const sso = await fetch(login.headers.get('location')!, { redirect: 'manual' });
    expect(sso.status).to.equal(200);
    const chooser = await sso.text();
    expect(chooser).to.include('Acme (development IdP)').and.include('Partner (development IdP)');
    for (const issuer of [status.idp, status.partnerIdp]) {
      const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
        issuer: string;
      };
      expect(discovery.issuer).to.equal(issuer);
    }
  });

  it('ends the help-center session when the customer signs out at the dev IdP (back-channel logout)', async () => {
    const browser = new Browser();
    const toBroker = await browser.request(`${status.portal}/login`);
    const chooser = await browser.request(toBroker.headers.get('location')!);
    const { csrf } = formFields(await chooser.text());
    const toIdp = await browser.request(`${status.broker}/saml/choose`, {
      form: { csrf: csrf!, idp: 'acme-dev' },
    });
    expect(toIdp.status).to.equal(303);
    const { fields } = await loginAtDevIdp(browser, toIdp.headers.get('location')!, {
      brokerUrl: status.broker,
    });
    expect((await browser.request(`${status.portal}/saml/acs`, { form: fields })).status).to.equal(303);
    const page = async () => {
      const res = await browser.request(`${status.portal}/requests`);
      await res.arrayBuffer();
      return res.status;
    };
    expect(await page(), 'signed in').to.equal(200);
    const endSession = `${status.idp}/session/end?client_id=${DEV_CLIENT_ID}`;
    const confirm = await (await browser.request(endSession)).text();
    const action = /<form[^>]*action="([^"]+)"/.exec(confirm)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm)![1]!;
    await (
      await browser.request(new URL(action, endSession).href, { form: { xsrf, logout: 'yes' } })
    ).arrayBuffer();
    expect(await page(), 'the IdP told the broker, the broker the portal').to.equal(303);
    // Her flows counted, nothing of her in a series (her lines were read as they came: startDevStack).
    for (const part of ['broker', 'portal'] as const)
      await checkMetricsAt(status.management[part], `npm start's ${part}`);
  });

  it('stops everything on Ctrl-C and removes its temporary folder', async () => {
    await expectCtrlCStopsEverything(stack, (output) => folderNamedIn(output, 'Tenant YAML: '), [
      status.portal,
      status.broker,
      status.idp,
      status.jsmEmulator,
    ]);
  });
});

/** Ids of the processes whose command line names `path` (the stack's parts name their folder). */
function processesNaming(path: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe('npm start that cannot finish starting', function () {
  this.timeout(240_000);

  it("stops every part it started and removes its folder, naming the part's reason (REDIS_URL with no Redis behind it)", async () => {
    // Its own TMPDIR, so the stack's folder and the parts that name it are told from any other run's.
    const tmp = mkdtempSync(join(tmpdir(), 'jsm-sso-start-fail-'));
    const child = spawn('npm', ['start'], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: tmp, REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
      detached: true,
    });
    checkLogLinesOf(child);
    let output = '';
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (chunk: Buffer) => (output += chunk));
    try {
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code, output.slice(-2000)).to.equal(1);
      // The broker's /readyz reason (its first: the shared state store cannot be reached; later: no
      // answer within 500 ms), where there was only 'HTTP 503'.
      expect(output).to.match(/broker did not become ready at \S+: HTTP 503 \(not ready: [^)]+\)/);
      expect(readdirSync(tmp).filter((name) => name.startsWith('jsm-sso-dev-'))).to.deep.equal([]);
      expect(processesNaming(tmp)).to.deep.equal([]);
    } finally {
      for (const pid of processesNaming(tmp)) process.kill(pid, 'SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
