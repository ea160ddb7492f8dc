import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { packageRoot } from '../../common/paths.js';
import {
  createPki,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  portalSp,
  tenantFor,
} from '../../testkit/broker-harness.js';

const MAIN = join(packageRoot(), 'cli/main.ts');

function jsmSso(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import=tsx', MAIN, ...args], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The URLs the process logs as `server.listening`, by server name, once both are up. */
function listening(child: ChildProcess, names: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const urls: Record<string, string> = {};
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (const line of buffered.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as Record<string, string>;
        if (entry['event'] === 'server.listening') urls[entry['server']!] = entry['url']!;
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
      if (names.every((n) => urls[n])) resolve(urls);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('jsm-sso broker and jsm-sso dev idp (command line)', () => {
  let pki: Pki;
  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());

  it('serves a tenant from its YAML and secrets, is ready on the management port, and exits 0 on SIGTERM', async () => {
    // The public URL the tenant names; the process listens on a free port of its own.
    const { server, url } = await listenPlaceholder();
    server.close();
    const tenant = tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:9')]);
    const config = join(pki.dir, 'tenant.yaml');
    writeFileSync(config, stringify(tenant));
    const child = jsmSso([
      'broker',
      '--config',
      config,
      '--secrets-dir',
      pki.dir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--management-port',
      '0',
    ]);
    const done = exited(child);
    try {
      const urls = await listening(child, ['broker', 'management']);
      expect((await fetch(`${urls['management']}/readyz`)).status).to.equal(200);
      const metadata = await fetch(`${urls['broker']}/saml/metadata`);
      expect(await metadata.text()).to.contain(`entityID="${url}/saml/metadata"`);
      // A real signed AuthnRequest is accepted by the process (it then needs the IdP: 502 here).
      const authorize = new URL(await portalSp(url, pki).getAuthorizeUrlAsync('rs', undefined, {}));
      const sso = await fetch(`${urls['broker']}/saml/sso${authorize.search}`, { redirect: 'manual' });
      expect(await sso.text()).to.contain('OIDC_DISCOVERY_FAILED');
    } finally {
      const stopped = Date.now();
      child.kill('SIGTERM');
      const { code, stderr } = await done;
      expect(code, stderr).to.equal(0);
      expect(Date.now() - stopped).to.be.lessThan(5000);
    }
  });

  it('refuses to run the development IdP on a non-loopback address without the explicit flag', async () => {
    const child = jsmSso(['dev', 'idp', '--host', '0.0.0.0', '--port', '0']);
    const { code, stderr } = await exited(child);
    expect(code).to.not.equal(0);
    expect(stderr).to.contain('--i-know-this-is-not-production');
  });
});
