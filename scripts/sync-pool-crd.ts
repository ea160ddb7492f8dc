// `npm run gen` step: the JsmSsoPool CRD takes spec.redis and each part's autoscaling and pod schema
// from the JsmSsoTenant CRD, so a pool and a dedicated tenant are sized, scheduled and reach Redis in
// the same words (only "tenant" becomes "pool" in their descriptions). `--check` fails when stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { type SchemaNode, tenantCrd } from '../common/config/crd-schema.js';
import { POOL_CRD_PATH } from '../common/paths.js';

const SCHEMA = ['spec', 'versions', 0, 'schema', 'openAPIV3Schema', 'properties', 'spec', 'properties'];

/**
 * Pool path under spec -> tenant path under spec, and the tenant's properties there the pool does not
 * take: a pool is not deleted with its tenants' keys (a pooled tenant's are purged by the pool, ADR 0390).
 */
const SHARED: [(string | number)[], string[], string[]?][] = [
  [['redis'], ['redis'], ['purgeOnDeletion']],
  [
    ['broker', 'properties', 'autoscaling'],
    ['portal', 'autoscaling'],
  ],
  [
    ['broker', 'properties', 'pod'],
    ['portal', 'pod'],
  ],
  [
    ['portal', 'properties', 'autoscaling'],
    ['portal', 'autoscaling'],
  ],
  [
    ['portal', 'properties', 'pod'],
    ['portal', 'pod'],
  ],
];

function tenantSpecNode(path: string[], omit: string[] = []): SchemaNode {
  let node: SchemaNode | undefined = tenantCrd().schema.properties?.['spec'];
  for (const segment of path) node = node?.properties?.[segment];
  if (!node) throw new Error(`the tenant CRD has no spec.${path.join('.')}`);
  if (omit.length === 0) return node;
  const properties = Object.fromEntries(
    Object.entries(node.properties ?? {}).filter(([name]) => !omit.includes(name)),
  );
  return { ...node, properties };
}

/**
 * The tenant's words made the pool's: its namespace, its value. A node the tenant's CRD names twice
 * (a YAML alias: the pod schema's label selector, its affinity terms) stays one object, so that the
 * pool's CRD names it twice too instead of spelling it out again (it must stay well within the 256 KiB
 * a client-side `kubectl apply` keeps of it in an annotation).
 */
function forPool<T>(node: T, done = new Map<unknown, unknown>()): T {
  if (typeof node === 'string')
    return node.replace(/\btenant's\b/g, "pool's").replace(/\bthis tenant\b/g, 'this pool') as T;
  if (node === null || typeof node !== 'object') return node;
  if (done.has(node)) return done.get(node) as T;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(node) ? [] : {};
  done.set(node, copy);
  for (const [key, value] of Object.entries(node))
    (copy as Record<string, unknown>)[key] = forPool(value, done);
  return copy as T;
}

export function renderPoolCrd(current: string): string {
  const document = parseDocument(current);
  const done = new Map<unknown, unknown>();
  // Emptied first (in place, keeping the order), so the anchors of the copies replaced take no names the new ones would.
  for (const [poolPath] of SHARED) document.setIn([...SCHEMA, ...poolPath], null);
  for (const [poolPath, tenantPath, omit] of SHARED) {
    document.setIn(
      [...SCHEMA, ...poolPath],
      document.createNode(forPool(tenantSpecNode(tenantPath, omit), done), { aliasDuplicateObjects: true }),
    );
  }
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const current = readFileSync(POOL_CRD_PATH, 'utf8');
  const rendered = renderPoolCrd(current);
  if (process.argv.includes('--check')) {
    if (rendered !== current) {
      console.error(`${POOL_CRD_PATH} is stale: run npm run gen`);
      process.exit(1);
    }
  } else {
    writeFileSync(POOL_CRD_PATH, rendered);
    console.log(`wrote ${POOL_CRD_PATH}`);
  }
}
