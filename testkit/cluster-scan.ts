import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { Informer } from '../common/kube/informer.js';
import { createLogger } from '../common/log.js';
import { collectionPath, KINDS, MANAGED_KINDS, type ResourceKind } from '../operator/kube/kinds.js';
import { MANAGED_BY } from '../operator/resources/common.js';
import { checkLogLine } from './recent-logs.js';

/**
 * What anyone with `view` RBAC reads of the operator's writes, checked as the API server stores it
 * (ADR 0255): every Event's note and every tenant's and pool's status, in every namespace, as the
 * watch brings each new version; and every object the operator makes for a tenant or pool (its
 * Deployments, ConfigMaps, Services, ...: found by the managed-by label, read whole, ADR 0340). Not
 * its Secrets, which are where a secret belongs. Read at the API server, not in the operator's
 * client, so operators running as processes are checked too. A finding fails the test it arrived in
 * (test/failure-logs.ts); one the watch brings after its test ended, the next.
 */
const MANAGED = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
const WATCHED: ReadonlyArray<{
  kind: ResourceKind;
  shown: (o: Watched) => unknown;
  what: string;
  labelSelector?: string;
}> = [
  { kind: KINDS.event, shown: (o: Watched) => o.note, what: 'the note of an Event' },
  { kind: KINDS.tenant, shown: (o: Watched) => o.status, what: "a JsmSsoTenant's status" },
  { kind: KINDS.pool, shown: (o: Watched) => o.status, what: "a JsmSsoPool's status" },
  ...MANAGED_KINDS.map((kind) => ({
    kind,
    shown: (o: Watched) => o,
    what: `the operator's ${kind.kind}`,
    labelSelector: MANAGED,
  })),
];

type Watched = KubeObject & { note?: string; status?: unknown };

/**
 * Checks an object as stored in a collection of `plural` (an Event's note, a tenant's or pool's
 * status): for an API server that is no real one (testkit/fake-apiserver.ts, ADR 0278).
 */
export function checkWhatViewersRead(plural: string, object: KubeObject): void {
  const watched = WATCHED.find(({ kind }) => kind.plural === plural);
  const managed = object.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY;
  if (watched && (watched.labelSelector === undefined || managed)) check(object, watched.shown, watched.what);
}

function check(object: KubeObject, shown: (o: Watched) => unknown, what: string): void {
  const text = shown(object as Watched);
  if (text !== undefined)
    checkLogLine(
      typeof text === 'string' ? text : JSON.stringify(text),
      `${what} ${object.metadata.namespace}/${object.metadata.name}`,
    );
}

/** Starts the watches on `client`'s API server; the returned function stops them. */
export function scanWhatViewersRead(client: KubeClient): () => void {
  // The informers' own failures (the API server stopping at the run's end) are no finding.
  const logger = createLogger({ component: 'tests', level: 'silent' });
  const informers = WATCHED.map(
    ({ kind, shown, what, labelSelector }) =>
      new Informer({
        client,
        path: collectionPath(kind),
        ...(labelSelector === undefined ? {} : { labelSelector }),
        kind,
        logger,
        resyncMs: Number.POSITIVE_INFINITY,
        // Checked here, where the whole object passes; only its name is cached.
        transform: (object) => {
          check(object, shown, what);
          const { name, namespace, resourceVersion } = object.metadata;
          return { metadata: { name, namespace, resourceVersion } };
        },
        onEvent: () => undefined,
      }),
  );
  for (const informer of informers) informer.start();
  return () => {
    for (const informer of informers) void informer.stop();
  };
}
