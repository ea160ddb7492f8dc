// The jsm-sso OCI image for tests: built by `npm run image` (.ci/image.sh) unless JSM_SSO_IMAGE names
// an oci-archive already, read layer by layer, and unpacked into a runc bundle that runs it as a
// container runtime would (the image's user, a read-only root filesystem).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../common/paths.js';
import { checkOutputOf } from './part-process.js';

const run = promisify(execFile);

export interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
}

export interface ImageContents {
  config: ImageConfig;
  /** The manifest's annotations, where registries and scanners read what the labels say. */
  annotations: Record<string, string>;
  /** Every path of every layer, without a leading `./` or `/`. */
  files: string[];
  /** Those of `files` that are directories. */
  directories: Set<string>;
  /** Reads one file from the layer that last wrote it. */
  readFile(path: string): Promise<string>;
}

let built: Promise<string> | undefined;

/** The image's oci-archive: $JSM_SSO_IMAGE, else `npm run image` (cached layers make a rebuild quick). */
export function imageArchive(): Promise<string> {
  const given = process.env['JSM_SSO_IMAGE'];
  if (given) return Promise.resolve(given);
  built ??= run('bash', [join(packageRoot(), '.ci', 'image.sh')], {
    cwd: packageRoot(),
    maxBuffer: 64 * 1024 * 1024,
  }).then(({ stdout }) => stdout.trim().split('\n').pop()!);
  return built;
}

/** The image's configuration and file list, read from the archive's manifest and layer blobs. */
export async function readImage(archive: string): Promise<ImageContents & { close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-image-'));
  await run('tar', ['-xf', archive, '-C', dir]);
  const { blob, manifest, config } = readLayout(dir);
  // Per layer: each member's normalised path -> its name in the tar (`./app/x` or `app/x`).
  const layerFiles: Map<string, string>[] = [];
  for (const layer of manifest.layers) {
    const { stdout } = await run('tar', ['-tzf', blob(layer.digest)], { maxBuffer: 256 * 1024 * 1024 });
    layerFiles.push(
      new Map(
        stdout
          .split('\n')
          .filter(Boolean)
          .map((member) => [normalise(member), member]),
      ),
    );
  }
  return {
    config,
    annotations: manifest.annotations ?? {},
    files: layerFiles.flatMap((members) => [...members.keys()]),
    directories: new Set(
      layerFiles.flatMap((members) =>
        [...members].filter(([, member]) => member.endsWith('/')).map(([path]) => path),
      ),
    ),
    async readFile(path: string) {
      for (let i = manifest.layers.length - 1; i >= 0; i--) {
        const member = layerFiles[i]!.get(path);
        if (!member) continue;
        const { stdout } = await run('tar', ['-xzOf', blob(manifest.layers[i]!.digest), member], {
          maxBuffer: 64 * 1024 * 1024,
        });
        return stdout;
      }
      throw new Error(`${path} is in no layer of the image`);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The first manifest of an OCI image layout folder and the image configuration it names. */
function readLayout(dir: string) {
  const blob = (digest: string) => join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
    annotations?: Record<string, string>;
  };
  const config = (JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as { config: ImageConfig })
    .config;
  return { blob, manifest, config };
}

function normalise(path: string): string {
  return path.replace(/^\.?\//, '').replace(/\/$/, '');
}

export interface Bundle {
  dir: string;
  /** The image's configuration (entrypoint, command, environment, user). */
  config: ImageConfig;
  /** The runtime spec umoci derived from the image: each run starts from it. */
  runtimeSpec: string;
  remove(): void;
}

/** Unpacks the image into a runc bundle (rootfs + the runtime spec umoci derives from the image). */
export async function unpackBundle(archive: string): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-bundle-'));
  await run('skopeo', ['copy', '--quiet', `oci-archive:${archive}`, `oci:${join(dir, 'oci')}:image`]);
  await run('umoci', ['unpack', '--image', `${join(dir, 'oci')}:image`, join(dir, 'bundle')]);
  return {
    dir: join(dir, 'bundle'),
    config: readLayout(join(dir, 'oci')).config,
    runtimeSpec: readFileSync(join(dir, 'bundle', 'config.json'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ContainerRun {
  output(): string;
  exited: Promise<number | null>;
  /** Sends `signal` to the container's PID 1, as the kubelet's stop does (through runc). */
  kill(signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): Promise<void>;
}

let sequence = 0;

export interface ContainerOptions {
  /** Another user than the image's: an assigned UID, as OpenShift's restricted-v2 gives, with GID 0. */
  user?: { uid: number; gid: number };
  /** The host's network, to reach a server the test runs; else a network of its own, with nothing in it. */
  hostNetwork?: boolean;
  /** Host folders mounted read-only into the container, as the kubelet mounts a pod's volumes. */
  volumes?: { hostPath: string; mountPath: string }[];
}

/**
 * Runs `args` in the bundle under runc, as the image's user, on a read-only root filesystem and
 * without a capability (the pods drop them all), with `env` added to the image's environment.
 * `args[0]` is the container's PID 1.
 */
export function runContainer(
  bundle: Bundle,
  args: string[],
  env: string[] = [],
  options: ContainerOptions = {},
): ContainerRun {
  const oci = JSON.parse(bundle.runtimeSpec) as {
    root: { readonly?: boolean };
    process: { args: string[]; terminal: boolean; env?: string[]; user: object; capabilities?: object };
    linux: { namespaces: { type: string }[] };
    mounts: { destination: string; type: string; source: string; options: string[] }[];
  };
  oci.root.readonly = true;
  oci.process.terminal = false;
  oci.process.args = args;
  oci.process.env = [...(bundle.config.Env ?? []), ...env];
  oci.process.capabilities = {};
  if (options.user) oci.process.user = options.user;
  for (const { hostPath, mountPath } of options.volumes ?? []) {
    oci.mounts.push({ destination: mountPath, type: 'bind', source: hostPath, options: ['rbind', 'ro'] });
  }
  if (options.hostNetwork) oci.linux.namespaces = oci.linux.namespaces.filter((ns) => ns.type !== 'network');
  writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(oci));
  const id = `jsm-sso-test-${process.pid}-${++sequence}`;
  const child = spawn('runc', ['run', '--bundle', bundle.dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The container runs the product's image: its output is the product's log (ADR 0278).
  checkOutputOf(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    kill: async (signal) => {
      await run('runc', ['kill', id, signal]);
    },
  };
}
