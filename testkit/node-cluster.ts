// A real single-node Kubernetes cluster for test/cluster: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler as envtest starts them, plus containerd (Debian) with
// runc and a CNI bridge, and a kubelet whose node is Ready. Started by .ci/k8s-envtest.sh with
// K8S_ENVTEST_NODE=1 (the node half is .ci/k8s-node.sh); OCI archives given at start are in
// containerd under the names given, so pods run them with imagePullPolicy IfNotPresent.
// docs/decisions/0070-a-single-node-cluster-in-ci.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from '../common/kube/client.js';
import { packageRoot } from '../common/paths.js';
import { scanWhatViewersRead } from './cluster-scan.js';
import { clientFor, k8sToolsDir } from './envtest.js';
import { scanPodLogs } from './pod-log-scan.js';

export interface NodeCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  client: KubeClient;
  /** kubectl, helm and the cluster's binaries. */
  toolsDir: string;
  /** The node's address on the pod bridge: pods reach servers the test runs here. */
  nodeAddress: string;
  /** Environment for kubectl and helm: KUBECONFIG and the tools first on PATH. */
  env: NodeJS.ProcessEnv;
  /** The last lines of a component's log: kubelet, containerd, kube-apiserver, ... */
  logTail(component: string, lines?: number): string;
  /** The last lines of every container log of the pods in `namespace` (kubelet's pod log folder). */
  podLogs(namespace: string, lines?: number): string;
  stop(): void;
}

const SCRIPT = () => join(packageRoot(), '.ci/k8s-envtest.sh');

/**
 * Starts the cluster; `images` maps image names to oci-archives to load into containerd. Progress
 * goes to stderr as it happens; a step that fails throws with the script's message and the tail of
 * each component's log.
 */
export async function startNodeCluster(
  images: Record<string, string>,
  toolsDir = k8sToolsDir(true),
): Promise<NodeCluster> {
  const kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'jsm-sso-cluster-')), 'kubeconfig');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync('bash', [SCRIPT(), 'stop', kubeconfigPath], { stdio: 'ignore' });
    rmSync(dirname(kubeconfigPath), { recursive: true, force: true });
  };
  // Every way out but a started cluster removes the folder (and whatever the script left running).
  try {
    return await launch(kubeconfigPath, images, toolsDir, stop);
  } catch (err) {
    stop();
    throw err;
  }
}

/** Runs the script's start and reads what it recorded; `stop` is the cluster's, for its handle. */
async function launch(
  kubeconfigPath: string,
  images: Record<string, string>,
  toolsDir: string,
  stop: () => void,
): Promise<NodeCluster> {
  const startedAt = Date.now();
  const stderr = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn('bash', [SCRIPT(), 'start', kubeconfigPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        JSM_SSO_TOOLS_DIR: toolsDir,
        K8S_ENVTEST_NODE: '1',
        K8S_ENVTEST_IMAGES: Object.entries(images)
          .map(([name, archive]) => `${name}=${archive}`)
          .join(' '),
      },
    });
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk;
      // Progress lines only; the logs the script dumps on failure go into the error instead.
      for (const line of chunk.toString().split('\n'))
        if (line.startsWith('[k8s-envtest]')) console.error(`      ${line}`);
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, text }));
  });
  if (stderr.code !== 0) {
    // The script's own lines (which step failed and why), then the last 30 lines of each log.
    const lines = stderr.text.split('\n');
    const steps = lines.filter((line) => line.startsWith('[k8s-envtest]')).join('\n');
    const logs = lines.filter((line) => !line.startsWith('[k8s-envtest]')).join('\n');
    throw new Error(
      `the single-node cluster did not start (.ci/k8s-envtest.sh, K8S_ENVTEST_NODE=1):\n${steps}\n--- the last lines of each component's log:\n${logs}`,
    );
  }
  console.error(`      cluster up in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
  const stateDir = readFileSync(`${kubeconfigPath}.state`, 'utf8').trim();
  const nodeEnv = Object.fromEntries(
    readFileSync(join(stateDir, 'node.env'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
  const { kubeConfig, client } = clientFor(kubeconfigPath);
  process.once('exit', stop);
  // The pods run the product's image: their container logs are its logs, and what its operator
  // pods write to this API server is read as on the shared one (ADR 0278).
  const stopScans = [
    scanPodLogs(join(stateDir, 'pod-logs')),
    scanWhatViewersRead(clientFor(kubeconfigPath).client),
  ];
  return {
    kubeconfigPath,
    kubeConfig,
    client,
    toolsDir,
    nodeAddress: nodeEnv['POD_GW']!,
    env: { ...process.env, KUBECONFIG: kubeconfigPath, PATH: `${toolsDir}:${process.env['PATH']}` },
    logTail: (component, lines = 40) => tail(join(stateDir, `${component}.log`), lines),
    podLogs(namespace, lines = 40) {
      const root = join(stateDir, 'pod-logs');
      if (!existsSync(root)) return '(no pod logs)';
      const out: string[] = [];
      for (const pod of readdirSync(root).filter((name) => name.startsWith(`${namespace}_`))) {
        for (const container of readdirSync(join(root, pod))) {
          for (const file of readdirSync(join(root, pod, container)).sort()) {
            out.push(`--- ${pod}/${container}/${file}\n${tail(join(root, pod, container, file), lines)}`);
          }
        }
      }
      return out.join('\n') || `(no pod logs in namespace ${namespace})`;
    },
    stop() {
      for (const stopScan of stopScans) stopScan();
      stop();
    },
  };
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return `(${path} does not exist)`;
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}
