// The image `npm run image` builds (.ci/image.sh): production files only, labelled, with an SBOM,
// and running as a non-root user on a read-only root filesystem.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { DEFAULT_DRAIN_SECONDS, terminationGraceSeconds } from '../../common/http/shutdown.js';
import { packageRoot } from '../../common/paths.js';
import { secretVolumes } from '../../operator/resources/deployment.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Bundle,
  type ContainerRun,
  type ImageContents,
  imageArchive,
  readImage,
  runContainer,
  unpackBundle,
} from '../../testkit/oci-image.js';

const root = packageRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  repository: { url: string };
};

describe('the OCI image', function () {
  this.timeout(900_000);
  let archive: string;
  let image: ImageContents & { close(): void };

  before(async () => {
    archive = await imageArchive();
    image = await readImage(archive);
  });
  after(() => image?.close());

  it('holds the runtime build and nothing of the dev stack, tests, benchmarks or scripts', () => {
    const app = image.files.filter((f) => f.startsWith('app/'));
    expect(app).to.include.members([
      'app/dist/cli/main.js',
      'app/dist/broker/cli.js',
      'app/dist/portal/cli.js',
    ]);
    expect(app).to.include('app/dist/operator/cli.js');
    expect(app).to.include('app/crds/jsmssotenant.yaml');
    // Imported JSON the runtime reads at load: without it no part starts.
    expect(app).to.include('app/dist/common/metrics-catalogue.json');
    const own = app.filter((f) => !f.startsWith('app/node_modules/'));
    const forbidden = own.filter((f) =>
      /^app\/(dist\/)?(dev|test|testkit|bench|scripts)(\/|$)|\.test\.js$|\.ts$|\.map$/.test(f),
    );
    expect(forbidden).to.deep.equal([]);
    expect(
      own
        .filter((f) => f.startsWith('app/dist/'))
        .every((f) => /^app\/dist\/(cli|common|broker|portal|operator)(\/|$)/.test(f)),
    ).to.equal(true);
  });

  it('holds no development dependency', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path && entry.dev)
      .map(([path]) => `app/${path}`);
    expect(devOnly).to.include.members([
      'app/node_modules/mocha',
      'app/node_modules/oidc-provider',
      'app/node_modules/samlify',
    ]);
    const present = new Set(image.files);
    expect(devOnly.filter((path) => present.has(path))).to.deep.equal([]);
    expect(present.has('app/node_modules/express')).to.equal(true);
  });

  it('has no shell, no package manager and no program but node (ADR 0153): nothing to exec into', () => {
    const programs = image.files.filter((f) => /^(usr\/)?(local\/)?s?bin\/[^/]+$/.test(f));
    expect(programs).to.deep.equal(['usr/local/bin/node']);
  });

  it('runs as the numeric non-root user 10001', () => {
    expect(image.config.User).to.equal('10001:10001');
    expect(image.config.Entrypoint).to.deep.equal(['/usr/local/bin/node', '/app/dist/cli/main.js']);
  });

  it('carries the OCI labels: version, revision, source, licence, created (the commit time)', () => {
    const labels = image.config.Labels ?? {};
    expect(labels['org.opencontainers.image.version']).to.equal(pkg.version);
    expect(labels['org.opencontainers.image.source']).to.equal(pkg.repository.url);
    expect(labels['org.opencontainers.image.licenses']).to.equal(pkg.license);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    expect(labels['org.opencontainers.image.revision']).to.match(new RegExp(`^${head}(-dirty)?$`));
    // The commit's time, not the build's, so that a rebuild of one commit gives the same image.
    const committed = execFileSync('git', ['log', '-1', '--format=%ct'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    expect(Date.parse(labels['org.opencontainers.image.created'] ?? '') / 1000).to.equal(Number(committed));
    // The manifest says the same, for registries and scanners that read annotations, not the config.
    expect(image.annotations).to.deep.equal(labels);
    // base.name is the reference of the image this one is built on (OCI image-spec, annotations.md):
    // its Debian rootfs is made of packages, not taken from an image, so there is none to name, and a
    // description there is read as a reference that names no image.
    expect(Object.keys(labels)).to.not.include('org.opencontainers.image.base.name');
  });

  it('stamps the labelled revision where jsm-sso --version and jsm_sso_build_info read it', async () => {
    const labels = image.config.Labels ?? {};
    const stamp = JSON.parse(await image.readFile('app/dist/common/build-info.json')) as { revision: string };
    expect(stamp.revision).to.equal(labels['org.opencontainers.image.revision']);
    const bundle = await unpackBundle(archive);
    try {
      const version = runContainer(bundle, ['/usr/local/bin/node', '/app/dist/cli/main.js', '--version']);
      expect(await version.exited, version.output()).to.equal(0);
      expect(version.output()).to.include(`jsm-sso ${pkg.version} (revision ${stamp.revision},`);
    } finally {
      bundle.remove();
    }
  });

  it('ships an SPDX SBOM of its npm packages, Debian packages and Node.js', async () => {
    const sbom = JSON.parse(await image.readFile('app/sbom.spdx.json')) as {
      spdxVersion: string;
      packages: { name: string; versionInfo: string }[];
    };
    expect(sbom.spdxVersion).to.equal('SPDX-2.3');
    const names = sbom.packages.map((p) => p.name);
    expect(names).to.include.members(['express', 'libc6', 'libstdc++6', 'node']);
    expect(names).to.not.include('mocha');
    const node = sbom.packages.find((p) => p.name === 'node')!;
    expect(node.versionInfo).to.match(/^22\./);
  });

  it('starts as uid 10001 on a read-only root filesystem and answers --help', async () => {
    const bundle = await unpackBundle(archive);
    try {
      const probe = runContainer(bundle, [
        '/usr/local/bin/node',
        '-e',
        "let w='writable';try{require('fs').writeFileSync('/app/x','')}catch(e){w=e.code}console.log(process.getuid(),process.getgid(),w)",
      ]);
      expect(await probe.exited, probe.output()).to.equal(0);
      expect(probe.output().trim()).to.equal('10001 10001 EROFS');
      const help = runContainer(bundle, ['/usr/local/bin/node', '/app/dist/cli/main.js', '--help']);
      expect(await help.exited, help.output()).to.equal(0);
      expect(help.output()).to.match(/operator.*\n.*broker.*\n.*portal/);
      expect(help.output()).to.not.include('dev ');
    } finally {
      bundle.remove();
    }
  });

  it("reads a tenant's Secret file as the kubelet mounts it under an assigned UID with GID 0 and no fsGroup (ADR 0334)", async () => {
    // A Secret volume as the operator builds it: no defaultMode, so the API server's 0644
    // (core/v1 SecretVolumeSourceDefaultMode); with no fsGroup the kubelet leaves its files root's.
    const { volumes, mounts } = secretVolumes([{ secret: 'acme-broker-signing', key: 'tls.key' }]);
    const mode = volumes[0]!.secret!.defaultMode ?? 0o644;
    const host = mkdtempSync(join(tmpdir(), 'jsm-sso-secret-'));
    const bundle = await unpackBundle(archive);
    try {
      // The volume's folder as the kubelet's atomic writer leaves it (its ..data folder: 0755).
      chmodSync(host, 0o755);
      writeFileSync(join(host, 'tls.key'), 'the key');
      chmodSync(join(host, 'tls.key'), mode);
      const file = `${mounts[0]!.mountPath}/tls.key`;
      const probe = runContainer(
        bundle,
        [
          '/usr/local/bin/node',
          '-e',
          `console.log(process.getuid(), process.getgid(), require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'))`,
        ],
        [],
        {
          user: { uid: 1_000_680_000, gid: 0 },
          volumes: [{ hostPath: host, mountPath: mounts[0]!.mountPath }],
        },
      );
      expect(await probe.exited, probe.output()).to.equal(0);
      expect(probe.output().trim()).to.equal('1000680000 0 the key');
    } finally {
      bundle.remove();
      rmSync(host, { recursive: true, force: true });
    }
  });

  describe('as PID 1, stopped the way the kubelet stops a container (SIGTERM, SIGKILL after the grace period)', () => {
    const GRACE_MS = terminationGraceSeconds(DEFAULT_DRAIN_SECONDS) * 1000;
    const jsmSso = (...args: string[]) => ['/usr/local/bin/node', '/app/dist/cli/main.js', ...args];
    let bundle: Bundle;

    before(async () => {
      bundle = await unpackBundle(archive);
      // A cluster the container cannot reach (it has no network): a pool waits for it at start.
      writeFileSync(join(bundle.dir, 'rootfs/kubeconfig'), kubeconfig('https://127.0.0.1:1'), {
        mode: 0o644,
      });
    });
    after(() => bundle?.remove());

    const kubeconfig = (server: string) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server } }],
        users: [{ name: 'u', user: { token: 'unused' } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      });

    /** `signal` once `ready` is logged; the exit code, or null if SIGKILL had to end it after the grace period. */
    async function stopWith(
      container: ContainerRun,
      ready: RegExp,
      signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM',
    ): Promise<number | null> {
      await eventually(async () => ready.test(container.output()), `${ready} in the output`, 60_000).catch(
        (err) => {
          throw new Error(`${(err as Error).message}\n${container.output()}`);
        },
      );
      await container.kill(signal);
      const killed = setTimeout(() => void container.kill('SIGKILL').catch(() => {}), GRACE_MS);
      try {
        const code = await container.exited;
        return code === 128 + constants.signals.SIGKILL ? null : code;
      } finally {
        clearTimeout(killed);
      }
    }

    it('drains and exits 0 while serving, on SIGINT (Ctrl-C at a terminal) as on SIGTERM', async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const portal = runContainer(bundle, jsmSso('portal', '--pool-dir', '/app/crds'));
        expect(
          await stopWith(portal, /"event":"server.listening","server":"portal"/, signal),
          portal.output(),
        ).to.equal(0);
        expect(portal.output()).to.include(`"event":"process.stopping","signal":"${signal}"`);
        expect(portal.output()).to.include('"event":"process.draining"');
      }
    });

    it('exits at once while still starting: an operator under an assigned UID, waiting on an API server that does not answer', async () => {
      // Accepts and never answers: the operator's first request (its hash key) waits on it.
      const held: Socket[] = [];
      const silent = createServer((socket) => held.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        writeFileSync(
          join(bundle.dir, 'rootfs/silent-kubeconfig'),
          kubeconfig(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`),
          { mode: 0o644 },
        );
        const operator = runContainer(
          bundle,
          jsmSso(
            'operator',
            '--kubeconfig=/silent-kubeconfig',
            '--image=registry.example/jsm-sso:0.1.0',
            '--disable-leader-election',
            '--host=127.0.0.1',
            '--management-port=0',
          ),
          [],
          { user: { uid: 1_000_680_000, gid: 0 }, hostNetwork: true },
        );
        expect(
          await stopWith(operator, /"event":"server.listening","server":"management"/),
          operator.output(),
        ).to.equal(128 + constants.signals.SIGTERM);
        expect(operator.output()).to.include('"event":"process.stopped_while_starting"');
      } finally {
        for (const socket of held) socket.destroy();
        silent.close();
      }
    });

    it('exits at once while still starting: a pool waiting for an API server it cannot reach', async () => {
      const portal = runContainer(bundle, jsmSso('portal', '--pool', 'shared', '--pool-namespace', 'pools'), [
        'KUBECONFIG=/kubeconfig',
      ]);
      expect(await stopWith(portal, /"event":"pool.tenant_watch_failed"/), portal.output()).to.equal(
        128 + constants.signals.SIGTERM,
      );
      expect(portal.output()).to.include('"event":"process.stopped_while_starting"');
    });
  });
});
