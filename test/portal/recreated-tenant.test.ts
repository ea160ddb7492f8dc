import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { startPoolProcess, within } from '../../testkit/pool.js';
import { writePortalBundle } from '../../testkit/pool-bundle.js';
import { type Browser, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalFiles,
  type PortalTenantOptions,
  startPortalProcess,
  waitReady,
  writePortalFiles,
  writePortalTenantDocument,
} from '../../testkit/portal-process.js';
import { redisUrl } from '../../testkit/redis.js';

/**
 * ADR 0379 (ADR 0371's dedicated and --pool-dir side): a tenant deleted and re-created under its name
 * is another tenant, maybe another company's help center, on the same Redis (the one its spec names,
 * which a SaaS operator may share, or a pool's). Its predecessor's sessions are none of its own. The
 * operator writes the tenant's metadata.uid into the document a part loads; the re-created tenant
 * has another, and its keys are its own. A document with no uid (a part run by hand) keeps the name's.
 */
describe('a tenant deleted and re-created under its name, on the same Redis (real portal processes)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(120_000);
  const run = randomUUID().slice(0, 8);
  let emulator: RunningJsmEmulator;
  let redis: Redis;

  before(async () => {
    emulator = await startJsmEmulator({});
    redis = new Redis(redisUrl());
  });
  after(async () => {
    await emulator?.close();
    redis?.disconnect();
  });

  /** The keys the tenant's store holds in Redis under `keyspace` (`<name>` or `<name>@<uid>`). */
  const keysOf = (keyspace: string) => redis.keys(`jsm-sso:${keyspace}:*`);

  /** Expects `page` to send its customer to sign in: the session it was sent with is not honoured here. */
  const sentToSignIn = (page: Response, what: string) => {
    expect(page.status, what).to.be.within(300, 399);
    expect(page.headers.get('location'), what).to.match(/\/login/);
  };

  describe('a dedicated portal, restarted on its tenant document', () => {
    let portal: ChildProcess | undefined;
    const cleanups: Array<() => void> = [];

    const stop = async () => {
      if (!portal || portal.exitCode !== null || portal.signalCode !== null) return;
      const exited = new Promise((resolve) => portal!.once('exit', resolve));
      portal.kill('SIGKILL');
      await exited;
    };
    const start = async (files: PortalFiles, url: string) => {
      await stop();
      portal = startPortalProcess(files, Number(new URL(url).port), await freePort());
      await waitReady(`${url}/saml/metadata`);
    };
    /** Tenant `name` of its own at a port of its own, on the test's Redis. */
    const tenant = async (name: string, uid?: string) => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const options: PortalTenantOptions = {
        name,
        portalUrl: url,
        siteUrl: emulator.url,
        redisUrl: redisUrl(),
        ...(uid ? { uid } : {}),
      };
      const files = writePortalFiles(options);
      cleanups.push(files.cleanup);
      return { url, options, files };
    };

    afterEach(stop);
    after(() => {
      for (const cleanup of cleanups) cleanup();
    });

    it("does not honour the predecessor's session cookie, which a restart of the same tenant keeps", async () => {
      const first = randomUUID();
      const { url, options, files } = await tenant(`reborn-${run}`, first);
      await start(files, url);
      const bob = await signInAt(url, files.brokerKey, 'bob@acme.test');
      expect((await bob.fetch('/profile')).status, "bob's session").to.equal(200);
      expect(await keysOf(`reborn-${run}@${first}`), 'the incarnation keeps its keys').to.not.be.empty;
      await start(files, url);
      expect((await bob.fetch('/profile')).status, 'after a restart of the same tenant').to.equal(200);
      // Deleted and created again under its name: the operator writes the new tenant's uid.
      writePortalTenantDocument(files.config, { ...options, uid: randomUUID() });
      await start(files, url);
      sentToSignIn(await bob.fetch('/profile'), "the predecessor's session at the new tenant");
    });

    it('keeps the keys of its name for a document with no uid (a part run by hand)', async () => {
      const { url, files } = await tenant(`by-hand-${run}`);
      await start(files, url);
      await signInAt(url, files.brokerKey, 'bob@acme.test');
      expect(await keysOf(`by-hand-${run}`)).to.not.be.empty;
    });
  });

  describe('a --pool-dir portal pool, its bundle rewritten', () => {
    let dir: string;
    let pool: ReturnType<typeof startPoolProcess> | undefined;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'recreated-pool-dir-'));
    });
    after(async () => {
      pool?.child.kill('SIGKILL');
      await pool?.done;
      rmSync(dir, { recursive: true, force: true });
    });

    it("does not honour the predecessor's session cookie once the bundle's tenant.yaml names another uid", async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const options: PortalTenantOptions = {
        name: `pooled-${run}`,
        portalUrl: url,
        siteUrl: emulator.url,
        uid: randomUUID(),
        title: 'Help Center A',
      };
      const brokerKey = writePortalBundle(dir, 'a', options);
      pool = startPoolProcess('portal', ['--pool-dir', dir], port, { REDIS_URL: redisUrl() });
      await pool.urls;
      const bob: Browser = await signInAt(url, brokerKey, 'bob@acme.test');
      expect((await bob.fetch('/profile')).status, "bob's session").to.equal(200);
      expect(await keysOf(`pooled-${run}@${options.uid}`), 'the incarnation keeps its keys').to.not.be.empty;
      // Deleted and created again under its name, for another company: another uid, another title.
      writePortalTenantDocument(join(dir, 'a', 'tenant.yaml'), {
        ...options,
        uid: randomUUID(),
        title: 'Another Company Help Center',
      });
      // Until the new tenant answers: it sends bob to sign in, or serves him its own page.
      const page = await within(20_000, async () => {
        const res = await bob.fetch('/');
        if (res.status !== 200) return res;
        return (await res.text()).includes('Another Company Help Center') ? res : undefined;
      });
      sentToSignIn(page, "the predecessor's session at the new tenant");
    });
  });
});
