import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import type { Registry } from 'prom-client';
import { KubeClient } from '../common/kube/client.js';
import { createLogger, type Logger } from '../common/log.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { Controller } from '../operator/controller.js';
import type { WorkQueue } from '../operator/queue.js';
import type { RedisPurgeTimings } from '../operator/redis-purge.js';
import type { OperatorSettings } from '../operator/resources/common.js';
import { type Envtest, eventually } from './envtest.js';
import { noteLogLine } from './recent-logs.js';

export interface TestController {
  client: KubeClient;
  controller: Controller;
  /** The operator's metrics. */
  registry: Registry;
  /** The operator's logger (its lines go where `logDestination` said, each checked first). */
  logger: Logger;
}

/**
 * The operator's controller in process, watching one test namespace through a client of its own
 * (so a test can count the operator's writes apart from its own).
 */
export async function startTestController(
  env: Envtest,
  options: {
    namespace: string;
    /** More namespaces to watch besides `namespace` (a pool's). */
    moreNamespaces?: string[];
    /** TEST_OPERATOR_SETTINGS when not given. */
    settings?: OperatorSettings;
    instance: string;
    level?: string;
    /** Where the operator's log lines go (a test reading them); stdout otherwise. */
    logDestination?: DestinationStream;
    onWrite?: (method: string, path: string) => void;
    /** The operator's client (one that injects a fault); a new one on the envtest otherwise. */
    client?: KubeClient;
    /** ControllerOptions.cleanupForbiddenGraceMs (5 minutes unless told). */
    cleanupForbiddenGraceMs?: number;
    /** ControllerOptions.redisPurge (REDIS_PURGE_TIMINGS unless told). */
    redisPurge?: RedisPurgeTimings;
    /** ControllerOptions.resyncMs (the operator's default unless told). */
    resyncMs?: number;
    /** ControllerOptions.hashKey (TEST_HASH_KEY unless told). */
    hashKey?: Buffer;
    /** ControllerOptions.queue (one with the operator's backoff unless told). */
    queue?: WorkQueue;
  },
): Promise<TestController> {
  const client = options.client ?? new KubeClient(env.kubeConfig);
  if (options.onWrite) client.onWrite = options.onWrite;
  const registry = createMetricsRegistry();
  const logger = createLogger({
    component: 'operator',
    level: options.level ?? 'warn',
    destination: checkedDestination(options.logDestination),
  });
  const controller = new Controller({
    client,
    settings: options.settings ?? TEST_OPERATOR_SETTINGS,
    logger,
    registry,
    namespaces: [options.namespace, ...(options.moreNamespaces ?? [])],
    workers: 2,
    instance: options.instance,
    hashKey: options.hashKey ?? TEST_HASH_KEY,
    ...(options.cleanupForbiddenGraceMs !== undefined
      ? { cleanupForbiddenGraceMs: options.cleanupForbiddenGraceMs }
      : {}),
    ...(options.resyncMs !== undefined ? { resyncMs: options.resyncMs } : {}),
    ...(options.redisPurge ? { redisPurge: options.redisPurge } : {}),
    ...(options.queue ? { queue: options.queue } : {}),
  });
  await controller.start();
  return { client, controller, registry, logger };
}

/**
 * Where the operator's log lines go: each is checked for personal data and secrets first, as a
 * part's are (ADR 0246, 0340), then written to `next` (the test's reader), else to stdout.
 */
function checkedDestination(next: DestinationStream | undefined): DestinationStream {
  return {
    write(line: string) {
      noteLogLine(JSON.parse(line) as Record<string, unknown>);
      (next ?? process.stdout).write(line);
    },
  };
}

/**
 * The hash key of the controllers a test starts (one per test process, as the Secret of a real
 * operator's namespace is one per cluster): a controller started again hashes alike.
 */
export const TEST_HASH_KEY = randomBytes(32);

/** The settings the operator tests run with (an image no kubelet pulls; ingress and metrics namespaces). */
export const TEST_OPERATOR_SETTINGS: OperatorSettings = {
  image: 'jsm-sso:test',
  ingressNamespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
  metricsNamespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
};

/**
 * Waits until the controller has been idle for ten polls in a row: no key queued, none being
 * reconciled, and none waiting out a backoff (a failed reconcile is retried later, so the operator is
 * not done with it; an idle check that ignored it passed while a retry was still to come).
 */
export async function operatorIdle(
  controller: Pick<Controller, 'queue' | 'busy'>,
  timeoutMs?: number,
): Promise<void> {
  let calm = 0;
  await eventually(
    async () => {
      const { queue } = controller;
      calm = queue.depth === 0 && queue.retrying === 0 && controller.busy === 0 ? calm + 1 : 0;
      return calm >= 10;
    },
    'the operator to be idle',
    timeoutMs,
  );
}

/** The `reason` label values the operator counted failed reconciles under, with their counts. */
export async function reconcileErrors(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('jsm_sso_operator_reconcile_errors_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels['reason']), v.value]));
}
