import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { READY_LINE } from '../../dev/start.js';

interface StackStatus {
  portal: string;
  broker: string;
  idp: string;
  jsmEmulator: string;
  management: { broker: string; portal: string };
}

describe('npm start (jsm-sso dev start)', function () {
  this.timeout(180_000);
  let child: ChildProcess;
  let status: StackStatus;
  let output = '';

  before(async () => {
    const root = packageRoot();
    child = spawn(process.execPath, ['--import=tsx', join(root, 'cli', 'main.ts'), 'dev', 'start'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REDIS_URL: '' },
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
    if (child.exitCode === null) child.kill('SIGKILL');
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

  it('sends a visitor of the portal to sign in through the broker', async () => {
    const login = await fetch(`${status.portal}/login`, { redirect: 'manual' });
    expect(login.status).to.be.within(300, 399);
    expect(login.headers.get('location')).to.match(new RegExp(`^${status.broker}/saml/sso\\?SAMLRequest=`));
    const sso = await fetch(login.headers.get('location')!, { redirect: 'manual' });
    expect(sso.status).to.be.within(300, 399);
    expect(sso.headers.get('location')).to.match(new RegExp(`^${status.idp}/`));
  });

  it('stops everything on Ctrl-C, exits 0 and removes its temporary folder', async () => {
    const tenantLine = output.split('\n').find((l) => l.includes('Tenant YAML: '))!;
    const folder = dirname(tenantLine.split('Tenant YAML: ')[1]!.trim());
    expect(existsSync(folder)).to.equal(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(existsSync(folder)).to.equal(false);
    for (const url of [status.portal, status.broker, status.idp, status.jsmEmulator]) {
      let refused = false;
      await fetch(url).catch(() => (refused = true));
      expect(refused, url).to.equal(true);
    }
  });
});
