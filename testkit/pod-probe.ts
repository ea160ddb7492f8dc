// Whether a TCP connection from inside the cluster's pod network is let through: the single-node
// cluster enforces NetworkPolicies (kube-router's firewall, ADR 0431), so what a pod can reach is what
// the policies say. The probe is a pod of the product's image (it has Node.js and nothing else).
import { execFileSync } from 'node:child_process';
import { setTimeout as pause } from 'node:timers/promises';
import type { KubeClient } from '../common/kube/client.js';
import { eventually } from './envtest.js';

/**
 * Tries for PROBE_WINDOW_MS, a connection at a time: a policy is written a moment after the pod it
 * lets through starts (kube-router syncs on the pod's event), so one refused try is not an answer.
 * A denied connection is dropped, not refused: each try ends at its own timeout.
 */
const PROBE_WINDOW_MS = 15_000;
const TRY_TIMEOUT_MS = 2_000;

/** The script `node -e` runs: `open` once a connection is made, `closed` when none was in the window. */
const probeScript = (host: string, port: number) => `
const net = require('node:net');
const end = Date.now() + ${PROBE_WINDOW_MS};
const attempt = () => {
  const socket = net.connect({ host: ${JSON.stringify(host)}, port: ${port}, timeout: ${TRY_TIMEOUT_MS} });
  const again = () => { socket.destroy(); if (Date.now() < end) setTimeout(attempt, 500); else console.log('closed'); };
  socket.once('connect', () => { console.log('open'); socket.destroy(); });
  socket.once('timeout', again);
  socket.once('error', again);
};
attempt();`;

export type Reach = 'open' | 'closed';

/** The hardening a restricted namespace demands, so a probe runs wherever the product's pods do. */
const HARDENED = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  container: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  },
};

/** Runs a probe pod in `namespace` (labelled `labels`) against host:port and answers what it saw. */
export async function probeFromPod(
  client: KubeClient,
  env: NodeJS.ProcessEnv,
  target: { namespace: string; name: string; image: string; labels?: Record<string, string> },
  host: string,
  port: number,
): Promise<Reach> {
  const { namespace, name, image, labels = {} } = target;
  await client.create(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: HARDENED.securityContext,
      containers: [
        {
          name: 'probe',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '-e', probeScript(host, port)],
          securityContext: HARDENED.container,
        },
      ],
    },
  });
  const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
  await eventually(
    async () => {
      const phase = (await client.get<{ status?: { phase?: string } }>(path))?.status?.phase;
      return phase === 'Succeeded' || phase === 'Failed';
    },
    `the probe pod ${namespace}/${name} to finish`,
    120_000,
  );
  const said = execFileSync('kubectl', ['-n', namespace, 'logs', name], { env, encoding: 'utf8' }).trim();
  await client.delete(path);
  if (said !== 'open' && said !== 'closed') throw new Error(`the probe ${namespace}/${name} said: ${said}`);
  return said;
}

/** The same probe from inside a running container (kubectl exec): what that pod's egress lets out. */
export function probeFromContainer(
  env: NodeJS.ProcessEnv,
  pod: { namespace: string; name: string },
  host: string,
  port: number,
): Reach {
  const said = execFileSync(
    'kubectl',
    ['-n', pod.namespace, 'exec', pod.name, '--', 'node', '-e', probeScript(host, port)],
    { env, encoding: 'utf8' },
  ).trim();
  if (said !== 'open' && said !== 'closed')
    throw new Error(`the probe in ${pod.namespace}/${pod.name} said: ${said}`);
  return said;
}

/**
 * How long a reach the policies deny may still be seen open: kube-router writes a pod's rules a moment
 * after the events that change them (cloudnativelabs/kube-router#873), NetworkPolicies being enforced
 * eventually by the API's own terms, and in CI run 133 (one of three runs with enforcement) a connection
 * from the operator, running for minutes, got through once while the events of the probe pods just
 * started were being synced.
 */
const CLOSED_WITHIN_MS = 60_000;
/** Between two probes of a reach seen open: past the moment of a sync, not a wait for one. */
const PROBE_AGAIN_AFTER_MS = 3_000;

/**
 * A reach the policies deny: probed again (`probe(attempt)`, a pod name of its own each attempt) while
 * it is seen open, until a probe says 'closed' or CLOSED_WITHIN_MS has passed. A policy that lets the
 * connection through for good is still 'open' here, after a minute of probes that each connected.
 */
export async function eventuallyClosed(probe: (attempt: number) => Promise<Reach> | Reach): Promise<Reach> {
  const until = Date.now() + CLOSED_WITHIN_MS;
  for (let attempt = 0; ; attempt++) {
    const reach = await probe(attempt);
    if (reach === 'closed' || Date.now() >= until) return reach;
    await pause(PROBE_AGAIN_AFTER_MS);
  }
}
