import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import {
  type OptionSpec,
  optionalPort,
  type ParsedOptions,
  parseCommand,
  UsageError,
} from '../common/args.js';
import type { TenantPodSettings } from '../common/config/tenant.generated.js';
import { validatePodSettings } from '../common/config/validate.js';
import { startManagementServer } from '../common/http/management.js';
import { exitOnSignals, type RunningServer } from '../common/http/server.js';
import { type ClusterAccess, inClusterAccess, kubeconfigAccess } from '../common/kube/access.js';
import { KubeClient } from '../common/kube/client.js';
import { createLogger, type Logger } from '../common/log.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { Controller } from './controller.js';
import { type HashKeySecret, loadHashKeyWhenReachable } from './hash-key.js';
import { LeaderElector } from './leader.js';
import type { OperatorSettings } from './resources/common.js';
import { isPodIds, POD_IDS, type PodIds } from './resources/pod-ids.js';
import { stopOperator } from './stop.js';

/** `jsm-sso operator`: flags are parsed here, at the edge, into OperatorConfig. */
const OPTIONS: Record<string, OptionSpec> = {
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    description: 'Kubeconfig file (default: in-cluster service account).',
  },
  'watch-namespaces': {
    type: 'string',
    value: 'A,B',
    description: 'Watch only these namespaces (default: all).',
  },
  'management-port': {
    type: 'string',
    value: 'N',
    description: 'Port for /metrics, /healthz, /readyz (default 9090).',
  },
  host: { type: 'string', value: 'ADDR', description: 'Address of the management server (default 0.0.0.0).' },
  image: { type: 'string', value: 'IMAGE', description: 'Image of the broker and portal pods (required).' },
  'image-pull-policy': {
    type: 'string',
    value: 'POLICY',
    description: 'Always, IfNotPresent or Never (default: cluster default).',
  },
  'ingress-namespace-selector': {
    type: 'string',
    value: 'K=V,..',
    description:
      'Labels of the namespaces allowed to reach the public ports; empty (the default): every namespace, so any ingress controller works.',
  },
  'metrics-namespace-selector': {
    type: 'string',
    value: 'K=V,..',
    description:
      'Labels of the namespaces allowed to reach the management ports (default kubernetes.io/metadata.name=monitoring; empty: every namespace).',
  },
  'tenant-pod-defaults': {
    type: 'string',
    value: 'JSON',
    description:
      "Pod settings of every tenant's broker and portal unless the tenant sets them: a JSON object shaped like spec.<part>.pod (the chart passes tenantPodDefaults).",
  },
  'pod-ids': {
    type: 'string',
    value: 'fixed|platform',
    description:
      "Who picks the broker and portal pods' user, group and fsGroup: fixed, 10001 (the default), or platform, none named, for a platform that assigns them (OpenShift's restricted-v2 SCC).",
  },
  'leader-election-namespace': {
    type: 'string',
    value: 'NS',
    description: 'Namespace of the leader Lease (default: own namespace).',
  },
  'leader-election-id': {
    type: 'string',
    value: 'NAME',
    description: 'Name of the leader Lease (default jsm-sso-operator).',
  },
  'lease-duration-seconds': {
    type: 'string',
    value: 'N',
    description: 'How long a lease lasts without renewal (default 15).',
  },
  'renew-deadline-seconds': {
    type: 'string',
    value: 'N',
    description:
      'A leader that cannot renew this long exits (default 10); less than --lease-duration-seconds.',
  },
  'retry-period-seconds': {
    type: 'string',
    value: 'N',
    description:
      'Interval of lease attempts and renewals (default 2); 1.2 times it is less than --renew-deadline-seconds.',
  },
  'hash-key-secret': {
    type: 'string',
    value: 'NAME',
    description:
      "Secret in the operator's own namespace holding the key Secret values are hashed under, created when absent (default jsm-sso-operator-hash-key).",
  },
  'disable-leader-election': { type: 'boolean', description: 'Run without a lease (one replica only).' },
  workers: { type: 'string', value: 'N', description: 'Concurrent reconciles (default 4).' },
  'resync-seconds': {
    type: 'string',
    value: 'N',
    description: 'Reconcile of every tenant and pool again, from the caches (default 600).',
  },
};

export interface OperatorConfig {
  kubeConfig: ClusterAccess;
  settings: OperatorSettings;
  namespaces?: string[];
  managementPort: number;
  host: string;
  leaderElection?: {
    namespace: string;
    name: string;
    leaseDurationSeconds: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  workers: number;
  resyncMs: number;
  identity: string;
  /** Where the key Secret values are hashed under lives (ADR 0315). */
  hashKeySecret: HashKeySecret;
}

export interface RunningOperator {
  controller: Controller;
  client: KubeClient;
  management: RunningServer;
  registry: Registry;
  /** Resolves when this replica leads and reconciles (never, for a standby that stays one). */
  leading: Promise<void>;
  stop(): Promise<void>;
}

export async function run(argv: string[]): Promise<void> {
  const values = parseCommand(
    { name: 'operator', summary: 'Reconcile JsmSsoTenant resources.', options: OPTIONS },
    argv,
  );
  if (!values) return;
  const config = await parseConfig(values);
  const logger = createLogger({ component: 'operator' });
  const operator = await startOperator(config, logger, () => {
    // Another replica may already act: stop at once and let Kubernetes restart us as a standby.
    process.exit(1);
  });
  exitOnSignals(() => operator.stop(), logger);
}

/** Starts the management server, waits for the lease, then reconciles until `stop`. */
export async function startOperator(
  config: OperatorConfig,
  logger: Logger,
  onLeaseLost: () => void,
): Promise<RunningOperator> {
  // Aborted by the stop (stop.ts) when the reconciles' requests go unanswered.
  const abortRequests = new AbortController();
  const client = new KubeClient(config.kubeConfig, { signal: abortRequests.signal });
  const registry = createMetricsRegistry();
  let controller: Controller | undefined;
  let leader = !config.leaderElection;
  // Opened first, so that a port another process holds is told as such (PORT_UNAVAILABLE) before the
  // operator asks the API server anything.
  const management = await startManagementServer({
    port: config.managementPort,
    host: config.host,
    registry,
    logger,
    // A standby is healthy; a leader is ready once its caches are synced.
    ready: async () => {
      if (!controller) throw new Error('hash key not read yet');
      if (leader && !controller.synced) throw new Error('caches not synced yet');
    },
  });
  // Read (or made) by every replica, leader or not, before anything is hashed: one key for all.
  const hashKey = await loadHashKeyWhenReachable(client, config.hashKeySecret, logger).catch(
    async (err: unknown) => {
      await management.close();
      client.close();
      throw err;
    },
  );
  controller = new Controller({
    client,
    settings: config.settings,
    logger,
    registry,
    ...(config.namespaces ? { namespaces: config.namespaces } : {}),
    workers: config.workers,
    resyncMs: config.resyncMs,
    instance: config.identity,
    hashKey,
  });
  const reconciling = controller;
  // The lease's own client, not aborted with the reconciles': the stop releases the lease after them.
  const leaseClient = new KubeClient(config.kubeConfig);
  const elector = config.leaderElection
    ? new LeaderElector({ client: leaseClient, identity: config.identity, logger, ...config.leaderElection })
    : undefined;
  elector?.fence(client);
  let stopped = false;
  const leading = (async () => {
    if (elector) {
      if (!(await elector.acquire()) || stopped) return;
      leader = true;
      elector.keepRenewing(() => {
        // A stop under way ends within its own bounds; the fence already refuses this replica's writes.
        if (stopped) return;
        void reconciling.stop();
        onLeaseLost();
      });
    }
    await reconciling.start();
  })();
  return {
    controller: reconciling,
    client,
    management,
    registry,
    leading,
    async stop() {
      stopped = true;
      await stopOperator({ controller: reconciling, abortRequests, elector, management, logger });
      client.close();
      leaseClient.close();
    },
  };
}

export async function parseConfig(values: ParsedOptions): Promise<OperatorConfig> {
  const file = stringFlag(values, 'kubeconfig');
  const kubeConfig = file ? await kubeconfigAccess(file) : inClusterAccess();
  const image = stringFlag(values, 'image');
  if (!image) throw new UsageError('--image is required (the jsm-sso image the broker and portal pods run)');
  const pullPolicy = stringFlag(values, 'image-pull-policy');
  if (pullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(pullPolicy)) {
    throw new UsageError('--image-pull-policy must be Always, IfNotPresent or Never');
  }
  const namespaces = stringFlag(values, 'watch-namespaces')
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const identity = `${process.env['POD_NAME'] ?? hostname()}_${randomUUID().slice(0, 8)}`;
  return {
    kubeConfig,
    settings: {
      image,
      ...(pullPolicy ? { imagePullPolicy: pullPolicy as OperatorSettings['imagePullPolicy'] } : {}),
      ingressNamespaceLabels: parseLabels(values, 'ingress-namespace-selector', ''),
      metricsNamespaceLabels: parseLabels(
        values,
        'metrics-namespace-selector',
        'kubernetes.io/metadata.name=monitoring',
      ),
      ...parsePodDefaults(stringFlag(values, 'tenant-pod-defaults')),
      podIds: parsePodIds(stringFlag(values, 'pod-ids')),
    },
    ...(namespaces?.length ? { namespaces } : {}),
    managementPort: optionalPort(values, 'management-port', 9090),
    host: stringFlag(values, 'host') ?? '0.0.0.0',
    ...(values['disable-leader-election']
      ? {}
      : {
          leaderElection: {
            namespace: stringFlag(values, 'leader-election-namespace') ?? ownNamespace(),
            name: stringFlag(values, 'leader-election-id') ?? 'jsm-sso-operator',
            ...leaseTimings(values),
          },
        }),
    workers: positiveInt(values, 'workers', 4),
    resyncMs: positiveInt(values, 'resync-seconds', 600) * 1000,
    identity,
    hashKeySecret: {
      namespace: ownNamespace(),
      name: stringFlag(values, 'hash-key-secret') ?? 'jsm-sso-operator-hash-key',
    },
  };
}

/**
 * The lease's timings, refused unless they keep two leaders apart (client-go's rules): a leader
 * writes until its renew deadline, a standby takes over a lease duration after the last renewal,
 * so the deadline must come first; and a renewal every retry period (plus jitter) must fit within
 * the deadline, else the leader refuses its own writes between two renewals.
 */
function leaseTimings(values: ParsedOptions): {
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
} {
  const leaseDurationSeconds = positiveInt(values, 'lease-duration-seconds', 15);
  const renewDeadlineMs = positiveInt(values, 'renew-deadline-seconds', 10) * 1000;
  const retryPeriodMs = positiveInt(values, 'retry-period-seconds', 2) * 1000;
  if (renewDeadlineMs >= leaseDurationSeconds * 1000)
    throw new UsageError(
      `--renew-deadline-seconds (${renewDeadlineMs / 1000}) must be less than --lease-duration-seconds (${leaseDurationSeconds}): a standby takes the lease over a lease duration after the last renewal, while the leader still writes until its renew deadline`,
    );
  if (retryPeriodMs * 1.2 >= renewDeadlineMs)
    throw new UsageError(
      `--retry-period-seconds (${retryPeriodMs / 1000}) with its 20% jitter must be less than --renew-deadline-seconds (${renewDeadlineMs / 1000}): the leader would stop writing between two renewals`,
    );
  return { leaseDurationSeconds, renewDeadlineMs, retryPeriodMs };
}

function stringFlag(values: ParsedOptions, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function positiveInt(values: ParsedOptions, name: string, fallback: number): number {
  const raw = stringFlag(values, name);
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d{0,6}$/.test(raw))
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `k=v,k2=v2` into matchLabels. */
/** `key=value[,key=value]`; an empty value (given or by default) selects every namespace. */
export function parseLabels(values: ParsedOptions, name: string, fallback: string): Record<string, string> {
  const given = values[name];
  const raw = typeof given === 'string' ? given : fallback;
  const labels: Record<string, string> = {};
  if (raw.trim() === '') return labels;
  for (const pair of raw.split(',')) {
    const [key, value, ...rest] = pair.split('=');
    if (!key || value === undefined || rest.length > 0)
      throw new UsageError(`--${name}: expected key=value[,key=value], got ${JSON.stringify(raw)}`);
    labels[key.trim()] = value.trim();
  }
  return labels;
}

/** --tenant-pod-defaults, checked against the CRD's schema for spec.<part>.pod. */
export function parsePodDefaults(raw: string | undefined): Pick<OperatorSettings, 'podDefaults'> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UsageError('--tenant-pod-defaults must be a JSON object');
  }
  // The chart lists every field, empty when unused; an empty field means no default.
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    value = Object.fromEntries(
      Object.entries(value).filter(
        ([, v]) => v !== '' && v !== null && !(typeof v === 'object' && Object.keys(v).length === 0),
      ),
    );
  }
  const problems = validatePodSettings(value, 'tenant-pod-defaults');
  if (problems.length > 0) {
    throw new UsageError(
      `--tenant-pod-defaults: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
  }
  return { podDefaults: value as TenantPodSettings };
}

function parsePodIds(raw: string | undefined): PodIds {
  if (raw === undefined) return 'fixed';
  if (!isPodIds(raw))
    throw new UsageError(`--pod-ids must be ${POD_IDS.join(' or ')}, got ${JSON.stringify(raw)}`);
  return raw;
}

function ownNamespace(): string {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return process.env['POD_NAMESPACE'] ?? 'default';
  }
}
