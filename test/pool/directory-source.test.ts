import { cpSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { ConfigError, type JsmSsoError } from '../../common/errors.js';
import {
  DirectoryTenantSource,
  type DirectoryTenantSourceOptions,
} from '../../common/pool/directory-source.js';
import type { WatchFolder } from '../../common/pool/folder-watches.js';
import type { TenantBundle, TenantSourceListener } from '../../common/pool/source.js';
import { createPki, oidcIdp, type Pki, tenantFor } from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { tenantAt } from '../../testkit/pool.js';

/** What a source told its listener, in order. */
class Recorder implements TenantSourceListener {
  readonly calls: Array<{ call: 'upsert' | 'remove' | 'invalid'; key: string; bundle?: TenantBundle }> = [];
  upsert(bundle: TenantBundle): void {
    this.calls.push({ call: 'upsert', key: bundle.key, bundle });
  }
  remove(key: string): void {
    this.calls.push({ call: 'remove', key });
  }
  /** The refusals' errors, in order. */
  readonly errors: ConfigError[] = [];
  invalid(key: string, error: JsmSsoError): void {
    this.calls.push({ call: 'invalid', key });
    if (error instanceof ConfigError) this.errors.push(error);
  }
  /** The calls after the first `from`. */
  since(from: number) {
    return this.calls.slice(from).map(({ call, key }) => `${call} ${key}`);
  }
}

/** Polls until `check` holds. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Longer than any test: what these sources deliver, their watches delivered. */
const NO_RESCAN_MS = 3_600_000;

describe('DirectoryTenantSource (tenants from a watched folder)', function () {
  this.timeout(30_000);
  let root: string;
  let pool: string;
  let pki: Pki;
  const sources: DirectoryTenantSource[] = [];

  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jsm-sso-dir-source-'));
    pool = join(root, 'pool');
    mkdirSync(pool);
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.close()));
    rmSync(root, { recursive: true, force: true });
  });

  /** Bundle `name` written aside and renamed into `folder` whole, as the bench and an atomic copy do. */
  function addBundle(folder: string, name: string): void {
    const aside = join(root, `aside-${name}`);
    mkdirSync(aside);
    cpSync(pki.dir, join(aside, 'secrets'), { recursive: true });
    writeFileSync(join(aside, 'tenant.yaml'), tenantYaml(name));
    renameSync(aside, join(folder, name));
  }

  function tenantYaml(name: string, url = `https://${name}.example`): string {
    return stringify(
      tenantAt(tenantFor(url, [oidcIdp('corporate', 'https://idp.example')]), 'broker', name, url),
    );
  }

  async function started(pollMs: number, options: DirectoryTenantSourceOptions = {}): Promise<Recorder> {
    const source = new DirectoryTenantSource(pool, { pollMs, ...options });
    sources.push(source);
    const recorder = new Recorder();
    await source.start(recorder);
    return recorder;
  }

  it('delivers the bundles present at start, each once', async () => {
    for (const name of ['a', 'b', 'c']) addBundle(pool, name);
    const recorder = await started(NO_RESCAN_MS);
    expect(recorder.since(0).sort()).to.deep.equal(['upsert a', 'upsert b', 'upsert c']);
  });

  it('delivers an added, a changed (document and secret file) and a removed bundle by its events alone, and no other bundle', async () => {
    for (const name of ['a', 'b', 'c']) addBundle(pool, name);
    const recorder = await started(NO_RESCAN_MS);
    let from = recorder.calls.length;

    addBundle(pool, 'd');
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['upsert d']);

    from = recorder.calls.length;
    writeFileSync(join(pool, 'b', 'tenant.yaml'), tenantYaml('b', 'https://b-moved.example'));
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['upsert b']);
    expect(recorder.calls.at(-1)!.bundle!.tenant.spec.broker.url).to.equal('https://b-moved.example');

    from = recorder.calls.length;
    writeFileSync(join(pool, 'c', 'secrets', 'broker-signing', 'tls.crt'), pki.portalCert);
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['upsert c']);

    from = recorder.calls.length;
    writeFileSync(join(pool, 'a', 'tenant.yaml'), 'kind: JsmSsoTenant\nspec: {}\n');
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['invalid a']);

    from = recorder.calls.length;
    rmSync(join(pool, 'd'), { recursive: true });
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['remove d']);
  });

  it("gives a bundle its tenant.yaml's metadata.uid (its incarnation's store keys, ADR 0379) and refuses one that is no label value", async () => {
    addBundle(pool, 'a');
    const recorder = await started(NO_RESCAN_MS);
    expect(recorder.calls.at(-1)!.bundle!.uid, 'a document without one').to.equal(undefined);
    const withUid = (uid: string) => {
      const tenant = parse(tenantYaml('a'));
      tenant.metadata.uid = uid;
      return stringify(tenant);
    };
    let from = recorder.calls.length;
    writeFileSync(join(pool, 'a', 'tenant.yaml'), withUid('0b8a51c4-3f1e-4d7e-9c55-6a1f7e2d9b10'));
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['upsert a']);
    expect(recorder.calls.at(-1)!.bundle!.uid).to.equal('0b8a51c4-3f1e-4d7e-9c55-6a1f7e2d9b10');
    from = recorder.calls.length;
    writeFileSync(join(pool, 'a', 'tenant.yaml'), withUid('other:{tag}'));
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['invalid a']);
    expect(recorder.errors.at(-1)!.problems.map((p) => p.code)).to.deep.equal(['TENANT_UID_INVALID']);
  });

  it('watches a bundle replaced under its name, and one whose tenant.yaml arrives after its folder', async () => {
    addBundle(pool, 'a');
    const recorder = await started(NO_RESCAN_MS);
    let from = recorder.calls.length;

    // Replaced whole: the new folder (another inode) is watched, so its later edits arrive too.
    renameSync(join(pool, 'a'), join(root, 'old-a'));
    addBundle(root, 'new-a');
    renameSync(join(root, 'new-a'), join(pool, 'a'));
    await until(() => recorder.since(from).includes('upsert a'));
    from = recorder.calls.length;
    writeFileSync(join(pool, 'a', 'secrets', 'broker-signing', 'tls.crt'), pki.portalCert);
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['upsert a']);

    // Copied in file by file: counted once its tenant.yaml is there.
    from = recorder.calls.length;
    mkdirSync(join(pool, 'e'));
    cpSync(pki.dir, join(pool, 'e', 'secrets'), { recursive: true });
    // A later edit of bundle a: its upsert comes after anything e's copied files caused, so once it
    // is there e's absence is seen (a marker, not a 200 ms sleep a loaded machine could outlast).
    writeFileSync(join(pool, 'a', 'secrets', 'broker-signing', 'tls.crt'), `${pki.portalCert}\n`);
    await until(() => recorder.since(from).includes('upsert a'));
    expect(recorder.since(from)).to.deep.equal(['upsert a']);
    from = recorder.calls.length;
    writeFileSync(join(pool, 'e', 'tenant.yaml'), tenantYaml('e'));
    await until(() => recorder.since(from).length > 0);
    expect(recorder.since(from)).to.deep.equal(['upsert e']);
  });

  it('reads only the bundles events name; a change whose event never came (made through a hard link outside the folder) waits for the periodic rescan', async () => {
    addBundle(pool, 'a');
    addBundle(pool, 'b');
    // A file changed through another link reaches no watch on the pool's folders, as with NFS.
    const outside = join(root, 'outside-tls.crt');
    linkSync(join(pool, 'a', 'secrets', 'broker-signing', 'tls.crt'), outside);
    const watchedOnly = await started(NO_RESCAN_MS);
    const rescanned = await started(300);
    const from = { watchedOnly: watchedOnly.calls.length, rescanned: rescanned.calls.length };

    writeFileSync(outside, `${pki.brokerCert}\n`);
    writeFileSync(join(pool, 'b', 'tenant.yaml'), tenantYaml('b', 'https://b-moved.example'));
    await until(() => rescanned.since(from.rescanned).includes('upsert a'));
    await until(() => watchedOnly.since(from.watchedOnly).length > 0);
    // b's event brought b alone: a's change was missed by the watches and not found by a rescan.
    expect(watchedOnly.since(from.watchedOnly)).to.deep.equal(['upsert b']);
    expect(rescanned.since(from.rescanned).sort()).to.deep.equal(['upsert a', 'upsert b']);
  });

  it('warns once (POOL_TENANT_WATCH_FAILED) when bundle folders cannot be watched, and the rescan still delivers their changes', async () => {
    addBundle(pool, 'a');
    addBundle(pool, 'b');
    // The inotify limit (ENOSPC) is kernel-wide: here every watch but the pool folder's fails as it would.
    const noSpace: WatchFolder = (folder, options, listener) => {
      if (folder === pool) return watch(folder, options, listener);
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), {
        code: 'ENOSPC',
      });
    };
    const { logger, logs } = capturedLogger({ component: 'test' });
    const recorder = await started(300, { logger, watch: noSpace });
    const from = recorder.calls.length;
    writeFileSync(join(pool, 'a', 'tenant.yaml'), tenantYaml('a', 'https://a-moved.example'));
    writeFileSync(join(pool, 'b', 'secrets', 'broker-signing', 'tls.crt'), `${pki.brokerCert}\n`);
    await until(() => recorder.since(from).length >= 2);
    expect(recorder.since(from).sort()).to.deep.equal(['upsert a', 'upsert b']);
    const warnings = logs.filter((line) => line['reason'] === 'POOL_TENANT_WATCH_FAILED');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ level: 'warn', cause: 'ENOSPC', rescanEveryMs: 300 });
  });
});
