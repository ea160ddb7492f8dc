import { brokerBasePath } from '../common/config/broker-endpoints.js';

/**
 * The `route` label of the broker's request-duration histogram for each path it serves. A backend's
 * endpoints sit under the tenant's base path (spec.broker.url may have one), and an IdP's own
 * endpoints end in its name (`/oidc/callback/<idp>`, ADR 0175; the logout and SP-metadata paths):
 * both are the tenant's choice. In a pool the histogram is one for every tenant (`tenant="*"`, ADR
 * 0101), so a label holding either would add series with every tenant placed there. The label is the
 * path with the base path taken off and such an IdP name as `:idp`: the same few routes in any pool.
 */
export function routeLabels(
  paths: Iterable<string>,
  brokerUrl: string,
  idpNames: Iterable<string>,
): Map<string, string> {
  const base = brokerBasePath(brokerUrl);
  const names = new Set([...idpNames].map((name) => encodeURIComponent(name)));
  const labels = new Map<string, string>();
  for (const path of paths) {
    const relative = base !== '' && path.startsWith(`${base}/`) ? path.slice(base.length) : path;
    const segments = relative.split('/');
    // `/<protocol>/<endpoint>/<idp>`: the broker's own routes have two segments, never three.
    if (segments.length === 4 && names.has(segments[3]!)) segments[3] = ':idp';
    labels.set(path, segments.join('/'));
  }
  return labels;
}
