// A pod template run the way a kubelet would run it, without a kubelet: its one container under runc
// from the image's unpacked root filesystem, in a network namespace the caller made. What the
// kubelet would take from the API server is taken from it: env valueFrom Secret and ConfigMap keys,
// and Secret, ConfigMap and emptyDir volumes written out and mounted where volumeMounts say. The
// securityContext decides the user, groups, capabilities and whether the root is read-only. Anything
// in the template this runner does not know fails loudly, so a new field cannot pass unseen.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1EnvVar, V1PodSpec, V1Probe, V1Volume } from '@kubernetes/client-node';
import type { KubeClient } from '../operator/kube/client.js';
import { KINDS, objectPath } from '../operator/kube/kinds.js';
import type { Bundle } from './oci-image.js';

export interface PodPlacement {
  namespace: string;
  netnsPath: string;
  address: string;
}

export interface RuncPod {
  address: string;
  container: V1Container;
  /** Everything the container wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  /** The URL the readiness probe of the template asks (httpGet), at the pod's address. */
  probeUrl(probe: V1Probe | undefined): string;
  stop(): Promise<void>;
}

interface OciSpec {
  root: { path: string; readonly?: boolean };
  process: {
    args: string[];
    env: string[];
    cwd: string;
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    capabilities?: Record<string, string[]>;
    noNewPrivileges?: boolean;
  };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: { namespaces: { type: string; path?: string }[] };
}

type Data = Record<string, Buffer>;

async function readSource(client: KubeClient, namespace: string, kind: 'secret' | 'configMap', name: string) {
  const object = await client.get<{ data?: Record<string, string> }>(
    objectPath(KINDS[kind], namespace, name),
  );
  if (!object) return undefined;
  const encoding = kind === 'secret' ? 'base64' : 'utf8';
  return Object.fromEntries(
    Object.entries(object.data ?? {}).map(([key, value]) => [key, Buffer.from(value, encoding)]),
  ) as Data;
}

/** The value of one env entry, from the API server when it is a reference (as the kubelet does). */
async function envValue(client: KubeClient, namespace: string, env: V1EnvVar): Promise<string | undefined> {
  if (!env.valueFrom) return env.value ?? '';
  const { secretKeyRef, configMapKeyRef } = env.valueFrom;
  const ref = secretKeyRef ?? configMapKeyRef;
  if (!ref) throw new Error(`env ${env.name}: only secretKeyRef and configMapKeyRef are supported here`);
  const data = await readSource(client, namespace, secretKeyRef ? 'secret' : 'configMap', ref.name!);
  const value = data?.[ref.key]?.toString('utf8');
  if (value === undefined && !ref.optional) {
    throw new Error(`env ${env.name}: ${ref.name}/${ref.key} does not exist, the pod could not start`);
  }
  return value;
}

/** Writes a Secret or ConfigMap volume as the kubelet would: the items (or every key), group fsGroup. */
async function writeVolume(
  client: KubeClient,
  namespace: string,
  volume: V1Volume,
  dir: string,
  fsGroup: number,
): Promise<void> {
  const kind = volume.secret ? 'secret' : 'configMap';
  const source = volume.secret ?? volume.configMap!;
  const name = volume.secret ? volume.secret.secretName! : volume.configMap!.name!;
  const data = await readSource(client, namespace, kind, name);
  if (!data && !source.optional) throw new Error(`volume ${volume.name}: ${kind} ${name} does not exist`);
  const items = source.items ?? Object.keys(data ?? {}).map((key) => ({ key, path: key, mode: undefined }));
  mkdirSync(dir, { recursive: true });
  for (const item of items) {
    const bytes = data?.[item.key];
    if (bytes === undefined) {
      if (source.optional) continue;
      throw new Error(`volume ${volume.name}: ${name} has no key ${item.key}, the pod could not start`);
    }
    const file = join(dir, item.path);
    writeFileSync(file, bytes);
    chownSync(file, 0, fsGroup);
    chmodSync(file, item.mode ?? source.defaultMode ?? 0o644);
  }
  chmodSync(dir, 0o755);
}

/** argv the way the kubelet builds it from the container and the image (command replaces Cmd too). */
function argv(container: V1Container, image: Bundle['config']): string[] {
  const command = container.command ?? image.Entrypoint ?? [];
  const args = container.args ?? (container.command ? [] : (image.Cmd ?? []));
  return [...command, ...args];
}

let sequence = 0;

export async function runPod(
  client: KubeClient,
  bundle: Bundle,
  pod: V1PodSpec,
  placement: PodPlacement,
): Promise<RuncPod> {
  if (pod.containers.length !== 1 || pod.initContainers?.length) {
    throw new Error('this runner runs pods of exactly one container');
  }
  const container = pod.containers[0]!;
  const security = { ...pod.securityContext, ...container.securityContext };
  const uid = security.runAsUser;
  const gid = security.runAsGroup ?? uid;
  if (uid === undefined || gid === undefined) throw new Error('the pod names no numeric user to run as');
  if (security.runAsNonRoot && uid === 0) throw new Error('runAsNonRoot with user 0: the kubelet refuses it');
  const fsGroup = pod.securityContext?.fsGroup ?? gid;

  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pod-'));
  const id = `jsm-sso-pod-${process.pid}-${++sequence}`;
  const mounts: OciSpec['mounts'] = [];
  for (const mount of container.volumeMounts ?? []) {
    if (mount.subPath || mount.subPathExpr)
      throw new Error(`volumeMount ${mount.name}: subPath is not supported`);
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} names no volume of the pod`);
    if (volume.emptyDir) {
      const size = volume.emptyDir.sizeLimit ? [`size=${volume.emptyDir.sizeLimit.replace(/i$/, '')}`] : [];
      mounts.push({
        destination: mount.mountPath,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=1777', ...size],
      });
      continue;
    }
    if (!volume.secret && !volume.configMap)
      throw new Error(`volume ${volume.name}: only Secret, ConfigMap and emptyDir are supported`);
    const source = join(dir, 'volumes', volume.name);
    await writeVolume(client, placement.namespace, volume, source, fsGroup);
    mounts.push({
      destination: mount.mountPath,
      type: 'bind',
      source,
      options: ['rbind', mount.readOnly ? 'ro' : 'rw'],
    });
  }

  const env = new Map<string, string>(
    (bundle.config.Env ?? []).map((entry) => [
      entry.slice(0, entry.indexOf('=')),
      entry.slice(entry.indexOf('=') + 1),
    ]),
  );
  if (container.envFrom?.length) throw new Error('envFrom is not supported here');
  for (const entry of container.env ?? []) {
    const value = await envValue(client, placement.namespace, entry);
    if (value !== undefined) env.set(entry.name, value);
  }

  const spec = JSON.parse(readFileSync(join(bundle.dir, 'config.json'), 'utf8')) as OciSpec;
  spec.root = { path: join(bundle.dir, 'rootfs'), readonly: security.readOnlyRootFilesystem === true };
  const dropsAll = security.capabilities?.drop?.includes('ALL') === true;
  const added = security.capabilities?.add ?? [];
  spec.process = {
    ...spec.process,
    args: argv(container, bundle.config),
    env: [...env].map(([name, value]) => `${name}=${value}`),
    cwd: container.workingDir ?? bundle.config.WorkingDir ?? '/',
    terminal: false,
    user: { uid, gid, additionalGids: [fsGroup, ...(security.supplementalGroups ?? [])] },
    noNewPrivileges: security.allowPrivilegeEscalation === false,
  };
  if (dropsAll) {
    const caps = added.map((c) => `CAP_${c}`);
    spec.process.capabilities = {
      bounding: caps,
      effective: caps,
      permitted: caps,
      inheritable: [],
      ambient: [],
    };
  } else if (added.length) {
    throw new Error('adding capabilities without dropping ALL is not supported here');
  }
  spec.mounts = [...spec.mounts, ...mounts];
  spec.linux.namespaces = [
    ...spec.linux.namespaces.filter((ns) => ns.type !== 'network'),
    { type: 'network', path: placement.netnsPath },
  ];
  const bundleDir = join(dir, 'bundle');
  mkdirSync(bundleDir);
  writeFileSync(join(bundleDir, 'config.json'), JSON.stringify(spec));

  const child = spawn('runc', ['run', '--bundle', bundleDir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const removeSync = () => {
    for (const args of [
      ['kill', id, 'KILL'],
      ['delete', '--force', id],
    ]) {
      try {
        execFileSync('runc', args, { stdio: 'ignore' });
      } catch {
        // Not running (any more).
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeSync);
  return {
    address: placement.address,
    container,
    output: () => output,
    exited,
    probeUrl(probe) {
      const get = probe?.httpGet;
      if (!get) throw new Error('the container has no httpGet probe');
      const port =
        typeof get.port === 'number'
          ? get.port
          : container.ports?.find((p) => p.name === get.port)?.containerPort;
      if (port === undefined) throw new Error(`probe port ${get.port} is no port of the container`);
      return `${(get.scheme ?? 'HTTP').toLowerCase()}://${placement.address}:${port}${get.path ?? '/'}`;
    },
    async stop() {
      removeSync();
      await exited;
      process.removeListener('exit', removeSync);
    },
  };
}
