import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { V1Job, V1Volume } from '@kubernetes/client-node';
import type { KubeClient } from '../common/kube/client.js';
import { KINDS, objectPath } from '../operator/kube/kinds.js';
import { type CliResult, runCli } from './cli.js';

/**
 * Runs a Job's one container as `jsm-sso` from source, with its volumes as a kubelet would lay them
 * out (envtest runs no kubelet): downward-API files from the pod template's annotations, Secret keys
 * from the API server, emptyDirs, each at its mountPath under a folder of the test's; an absolute path
 * among the arguments is read under that folder too. So the command reads what the Job's pod would
 * read, wired as the Job wires it.
 */
export async function runJobPod(client: KubeClient, job: V1Job): Promise<CliResult> {
  const template = job.spec!.template;
  const pod = template.spec!;
  const [container] = pod.containers;
  const root = mkdtempSync(join(tmpdir(), 'jsm-sso-job-pod-'));
  try {
    const mounts = container!.volumeMounts ?? [];
    for (const mount of mounts) {
      const volume = pod.volumes!.find((v) => v.name === mount.name)!;
      const files = await volumeFiles(
        client,
        job.metadata!.namespace!,
        volume,
        template.metadata?.annotations,
      );
      for (const [path, content] of Object.entries(files)) {
        const file = join(root, mount.mountPath, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
      mkdirSync(join(root, mount.mountPath), { recursive: true });
    }
    const args = (container!.args ?? []).map((arg) => (arg.startsWith('/') ? join(root, arg) : arg));
    return await runCli(args, { timeoutMs: 45_000 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A volume's files by their path in it; only the kinds the operator's Jobs use. */
async function volumeFiles(
  client: KubeClient,
  namespace: string,
  volume: V1Volume,
  annotations: Record<string, string> = {},
): Promise<Record<string, string>> {
  if (volume.emptyDir) return {};
  if (volume.downwardAPI) {
    const files: Record<string, string> = {};
    for (const item of volume.downwardAPI.items ?? []) {
      const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef?.fieldPath ?? '')?.[1];
      if (annotation === undefined)
        throw new Error(`runJobPod: downward API item ${item.path} not supported`);
      files[item.path] = annotations[annotation] ?? '';
    }
    return files;
  }
  if (volume.secret) {
    const secret = await client.get<{ data?: Record<string, string> }>(
      objectPath(KINDS.secret, namespace, volume.secret.secretName!),
    );
    const files: Record<string, string> = {};
    for (const item of volume.secret.items ?? []) {
      const data = secret?.data?.[item.key];
      if (data === undefined)
        throw new Error(`runJobPod: Secret ${volume.secret.secretName} has no ${item.key}`);
      files[item.path] = Buffer.from(data, 'base64').toString('utf8');
    }
    return files;
  }
  throw new Error(`runJobPod: volume ${volume.name} of a kind not supported`);
}
