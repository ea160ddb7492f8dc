// `jsm-sso purge`: deletes what a removed tenant left in Redis (ADR 0418). A pool purges its own
// deleted tenants (ADR 0390); a dedicated tenant's Redis is its team's, which the operator never reaches,
// and a tenant taken out of a --pool-dir folder may only have moved. For those, whoever removed the
// tenant runs this with the document the parts ran (`kubectl get jsmssotenant NAME -o yaml` keeps the
// uid its keys carry), or the operator's Job of spec.redis.purgeOnDeletion with the tenant's purge
// document (ADR 0427); of either, only the name, namespace, uid and spec.redis are read (ADR 0434).
import { parseCommand, requireString } from '../common/args.js';
import { tenantId } from '../common/config/load.js';
import { loadPurgeDocument } from '../common/config/purge-document.js';
import { POD_SECRETS_DIR, SecretDirectory } from '../common/config/secrets.js';
import { createFlowStore, createPoolFlowStore } from '../common/flowstore/open.js';
import { RedisFlowStore } from '../common/flowstore/redis-store.js';
import { POOL_REDIS_OPTIONS, poolRedisFrom } from '../common/pool/redis-flags.js';

const SPEC = {
  name: 'purge',
  summary:
    "Delete every key a removed tenant left in Redis: its customers' sessions, flows, one-time markers, write claims and counters. By default the tenant's own spec.redis (a dedicated tenant); with --redis-url-file, a pool's Redis (a pooled tenant). Only the keys of the document's incarnation (metadata.uid) go; run it once the tenant is deleted, since a live tenant's customers are signed out.",
  options: {
    config: {
      type: 'string' as const,
      value: 'FILE',
      description:
        'The JsmSsoTenant YAML the parts ran (with its metadata.uid, as kubectl get -o yaml gives it); only its name, namespace, uid and spec.redis are read.',
    },
    'secrets-dir': {
      type: 'string' as const,
      value: 'DIR',
      description: `Without --redis-url-file: the tenant's secrets as DIR/<secretName>/<key>, for spec.redis (default ${POD_SECRETS_DIR}).`,
    },
    ...POOL_REDIS_OPTIONS,
    'dry-run': {
      type: 'boolean' as const,
      description: 'Count the keys that would be deleted, and delete nothing.',
    },
  },
};

export async function run(argv: string[]): Promise<void> {
  const values = parseCommand(SPEC, argv);
  if (!values) return;
  const tenant = loadPurgeDocument(requireString(values, 'config'));
  const id = tenantId(tenant);
  const uid = tenant.metadata?.uid;
  const fromPool = Object.keys(POOL_REDIS_OPTIONS).some((flag) => values[flag] !== undefined);
  if (fromPool) requireString(values, 'redis-url-file');
  const store = fromPool
    ? createPoolFlowStore(poolRedisFrom(values))
    : createFlowStore(
        tenant,
        new SecretDirectory(
          typeof values['secrets-dir'] === 'string' ? values['secrets-dir'] : POD_SECRETS_DIR,
        ),
      );
  if (!(store instanceof RedisFlowStore)) {
    // Only reachable for a tenant without spec.redis: --redis-url-file always names a Redis.
    console.log(
      `${id}: no spec.redis; its state lived in its processes' memory and went with them. Nothing to purge.`,
    );
    return;
  }
  const incarnation = uid === undefined ? 'no metadata.uid' : `uid ${uid}`;
  try {
    if (values['dry-run']) {
      const found = await store.countKeys(id, uid);
      console.log(`${id} (${incarnation}): ${keys(found)} would be deleted (dry run, nothing deleted)`);
    } else {
      const deleted = await store.purge(id, uid);
      console.log(`${id} (${incarnation}): ${keys(deleted)} deleted`);
    }
  } finally {
    await store.close();
  }
}

const keys = (count: number) => `${count} ${count === 1 ? 'key' : 'keys'}`;
