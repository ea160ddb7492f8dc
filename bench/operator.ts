import { createLogger } from '../common/log.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { Controller } from '../operator/controller.js';
import { generateSigningKeyPair } from '../operator/keys.js';
import { KubeClient } from '../operator/kube/client.js';
import { collectionPath, KINDS } from '../operator/kube/kinds.js';
import { envtest, freshNamespace, stopEnvtest } from '../test/support/envtest.js';
import { secretObject, tenantObject } from '../test/support/tenants.js';

/**
 * The operator at scale against a real kube-apiserver: N tenants created at once, time until all
 * report ConfigValid with their objects applied, API writes during an idle resync (target 0),
 * operator RSS (target < 250 MB) and reconcile p99. Tenants share one pair of signing Secrets so
 * that the figure measures reconciling, not 2N RSA key generations.
 */
export async function benchOperator(n = 1000): Promise<Record<string, number | string>> {
  const env = await envtest();
  try {
    const namespace = await freshNamespace(env.client, 'bench');
    const secrets = collectionPath(KINDS.secret, namespace);
    const pair = await generateSigningKeyPair('bench');
    const tls = { 'tls.crt': pair.certificate, 'tls.key': pair.privateKey };
    await env.client.create(secrets, {
      ...secretObject(namespace, 'signing', tls),
      type: 'kubernetes.io/tls',
    });
    await env.client.create(secrets, secretObject(namespace, 'oidc', { clientSecret: 'x' }));
    await env.client.create(
      secrets,
      secretObject(namespace, 'atlassian', { email: 'a@b.example', apiToken: 't' }),
    );
    const client = new KubeClient(env.kubeConfig);
    const registry = createMetricsRegistry();
    const controller = new Controller({
      client,
      settings: {
        image: 'jsm-sso:bench',
        ingressNamespaceLabels: { a: 'b' },
        metricsNamespaceLabels: { c: 'd' },
      },
      logger: createLogger({ component: 'operator', level: 'error' }),
      registry,
      namespaces: [namespace],
      workers: 8,
      instance: 'bench',
    });
    await controller.start();
    const started = Date.now();
    const names = Array.from({ length: n }, (_, i) => `t${i}`);
    const spec = (name: string) =>
      tenantObject(namespace, name, {
        portal: { url: `https://${name}.help.example`, samlSigningSecretRef: { name: 'signing' } },
        broker: { url: `https://${name}.sso.example`, signingSecretRef: { name: 'signing' } },
        identityProviders: [
          {
            name: 'corp',
            oidc: { issuer: 'https://idp.example', clientId: 'c', clientSecretRef: { name: 'oidc' } },
          },
        ],
        atlassian: { siteUrl: 'https://acme.atlassian.net', credentialsSecretRef: { name: 'atlassian' } },
      } as never);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names
          .slice(i, i + 20)
          .map((name) => env.client.create(collectionPath(KINDS.tenant, namespace), spec(name))),
      );
    }
    const done = () =>
      names.every((name) => {
        const t = controller.tenant(namespace, name);
        return t?.status?.conditions?.some((c) => c.type === 'ConfigValid' && c.status === 'True');
      });
    while (!done()) await new Promise((r) => setTimeout(r, 200));
    while (controller.queue.depth > 0 || controller.busy > 0) await new Promise((r) => setTimeout(r, 100));
    const convergeSeconds = (Date.now() - started) / 1000;
    const before = client.writes;
    for (const name of names) controller.queue.add(`${namespace}/${name}`);
    await new Promise((r) => setTimeout(r, 200));
    while (controller.queue.depth > 0 || controller.busy > 0) await new Promise((r) => setTimeout(r, 100));
    const idleWrites = client.writes - before;
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    const metric = await registry.getSingleMetric('jsm_sso_operator_reconcile_duration_seconds')?.get();
    const histogram = (metric?.values ?? []) as {
      metricName?: string;
      value: number;
      labels: Record<string, unknown>;
    }[];
    const buckets = histogram.filter((v) => v.metricName?.endsWith('_bucket'));
    const count = histogram.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const p99 = buckets.find((b) => b.value >= count * 0.99)?.labels['le'];
    await controller.stop();
    client.close();
    return {
      tenants: n,
      'converge time (s)': convergeSeconds,
      'tenants/s': n / convergeSeconds,
      'API writes per idle resync (target 0)': idleWrites,
      'operator RSS at N tenants (MB, process incl. bench)': rssMb,
      'reconcile p99 (s, histogram bucket upper bound)': String(p99 ?? 'n/a'),
      reconciles: count,
    };
  } finally {
    stopEnvtest();
  }
}
