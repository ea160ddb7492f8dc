import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { READY_LINE } from '../../dev/start.js';

interface StackStatus {
  portal: string;
  broker: string;
  idp: string;
  partnerIdp: string;
  jsmEmulator: string;
  management: { broker: string; portal: string };
}

// Runs `npm start` itself (the CLI from source through tsx), as a newcomer would, in its own process
// group so that Ctrl-C reaches every process of the stack as it does in a terminal.
describe('npm start', function () {
  this.timeout(180_000);
  let child: ChildProcess;
  let status: StackStatus;
  let output = '';

  before(async () => {
    const root = packageRoot();
    child = spawn('npm', ['start'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REDIS_URL: '' },
      detached: true,
    });
    status = await new Promise<StackStatus>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk;
        const line = output.split('\n').find((l) => l.startsWith(READY_LINE));
        if (line) resolve(JSON.parse(line.slice(READY_LINE.length)));
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
      child.once('exit', (code) => reject(new Error(`dev start exited ${code}:\n${output.slice(-3000)}`)));
    });
  });

  after(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });

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
    const lines = output.split('\n');
    const ready = lines.findIndex((l) => l.startsWith(READY_LINE));
    for (const step of [
      'starting the JSM emulator',
      'dev IdP ready',
      'JSM emulator ready',
      'broker ready',
      'portal ready',
    ]) {
      const at = lines.findIndex((l) => l.startsWith('[dev] ') && l.includes(step));
      expect(at, step).to.be.within(0, ready - 1);
    }
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

  it('stops everything on Ctrl-C and removes its temporary folder', async () => {
    const tenantLine = output.split('\n').find((l) => l.includes('Tenant YAML: '))!;
    const folder = dirname(tenantLine.split('Tenant YAML: ')[1]!.trim());
    expect(existsSync(folder)).to.equal(true);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    process.kill(-child.pid!, 'SIGINT');
    // npm itself ends by the signal, as in a terminal; the stack under it must have cleaned up.
    const { code, signal } = await exited;
    expect(code === 0 || signal === 'SIGINT', `exit ${code} ${signal}`).to.equal(true);
    await waitUntil(() => !existsSync(folder));
    expect(existsSync(folder)).to.equal(false);
    for (const url of [status.portal, status.broker, status.idp, status.jsmEmulator]) {
      let refused = false;
      await fetch(url).catch(() => (refused = true));
      expect(refused, url).to.equal(true);
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
