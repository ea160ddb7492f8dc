import { createPrivateKey } from 'node:crypto';
import type { V1DeploymentSpec } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse } from 'yaml';
import { readDecryptionCredential } from '../../broker/decryption-credential.js';
import { checkTenant, type JsmSsoTenant } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import { IN_FLIGHT_GRACE_SECONDS, terminationGraceSeconds } from '../../common/http/shutdown.js';
import type { KubeObject } from '../../common/kube/client.js';
import { ProjectedSecrets } from '../../common/pool/kube-source.js';
import { contains, needsApply } from '../../operator/drift.js';
import { kindByName, objectPath } from '../../operator/kube/kinds.js';
import { missingSecrets } from '../../operator/missing-secrets.js';
import { WorkQueue } from '../../operator/queue.js';
import { childName, type DesiredContext } from '../../operator/resources/common.js';
import { configMapName, desiredConfigMap } from '../../operator/resources/configmap.js';
import { configHash, desiredDeployment } from '../../operator/resources/deployment.js';
import { desiredObjects } from '../../operator/resources/index.js';
import { desiredIngress } from '../../operator/resources/ingress.js';
import { desiredNetworkPolicy } from '../../operator/resources/networkpolicy.js';
import { desiredPodDisruptionBudget } from '../../operator/resources/pdb.js';
import { TMP_BASE_MIB } from '../../operator/resources/pod-storage.js';
import { desiredPoolObjects, poolContext } from '../../operator/resources/pool.js';
import { projectedKey, projectedUses } from '../../operator/resources/projection.js';
import { canonicalQuantity } from '../../operator/resources/quantity.js';
import { allSecretKeys, secretKeysFor, signingSecretName } from '../../operator/resources/secret-refs.js';
import { desiredService } from '../../operator/resources/service.js';
import { desiredSigningSecret } from '../../operator/resources/signing-secret.js';
import { computeStatus, sameStatus } from '../../operator/status.js';
import { envtest, freshNamespace } from '../../testkit/envtest.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { operatorIdle, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { EVERY_POD_SHAPE } from '../../testkit/pod-shapes.js';
import { tenantObject } from '../../testkit/tenants.js';

/** What the operator reads of a Secret holding `keys`, and these public certificates. */
function secretFacts(keys: string[], certs: Record<string, string> = {}) {
  return {
    keyHashes: Object.fromEntries(keys.map((k) => [k, `h-${k}`])),
    certificates: certs,
    privateKeys: {},
  };
}

function context(spec: Partial<JsmSsoTenant['spec']> = {}): DesiredContext {
  // checkTenant applies the CRD defaults, as the API server does before the operator sees a tenant.
  const tenant = checkTenant(tenantObject('ns', 'acme', spec));
  tenant.metadata!.uid = 'uid-1';
  return {
    tenant,
    settings: { image: 'img:1', ingressNamespaceLabels: { ing: 'x' }, metricsNamespaceLabels: { mon: 'y' } },
    secrets: {
      'acme-oidc': secretFacts(['clientSecret']),
      'acme-atlassian': secretFacts(['email', 'apiToken']),
      'acme-broker-signing': secretFacts(['tls.crt', 'tls.key'], { 'tls.crt': 'BROKER-CERT' }),
      'acme-portal-signing': secretFacts(['tls.crt', 'tls.key'], { 'tls.crt': 'PORTAL-CERT' }),
    },
  };
}

describe('operator dependent resources (pure)', () => {
  it('names children after the tenant and keeps them within a DNS label', () => {
    const long = tenantObject('ns', 'a'.repeat(63));
    expect(childName(long, 'broker')).to.have.length.at.most(63);
    expect(childName(long, 'broker')).to.not.equal(
      childName(tenantObject('ns', `${'a'.repeat(62)}b`), 'broker'),
    );
    expect(signingSecretName(context().tenant, 'broker')).to.equal('acme-broker-signing');
    expect(
      signingSecretName(
        context({ broker: { url: 'https://x', signingSecretRef: { name: 'mine' } } } as never).tenant,
        'broker',
      ),
    ).to.equal('mine');
  });

  it('puts the tenant document and only public certificates in the ConfigMap', () => {
    const cm = desiredConfigMap(context());
    expect(cm.metadata?.name).to.equal(configMapName(context().tenant));
    expect(Object.keys(cm.data ?? {}).sort()).to.deep.equal([
      'broker-signing.crt',
      'portal-signing.crt',
      'tenant.yaml',
    ]);
    const doc = parse(cm.data!['tenant.yaml']!);
    // The uid: a dedicated part keys its Redis by the tenant's incarnation (ADR 0379).
    expect(doc.metadata).to.deep.equal({ name: 'acme', namespace: 'ns', uid: 'uid-1' });
    expect(doc.status).to.equal(undefined);
  });

  it('gives the broker the IdP secrets and the portal the Atlassian credentials, never the other way', () => {
    const broker = secretKeysFor(context().tenant, 'broker').map((u) => `${u.secret}/${u.key}`);
    const portal = secretKeysFor(context().tenant, 'portal').map((u) => `${u.secret}/${u.key}`);
    expect(broker).to.include('acme-oidc/clientSecret').and.not.include('acme-atlassian/apiToken');
    expect(broker).to.not.include('acme-portal-signing/tls.key');
    expect(portal).to.include('acme-atlassian/apiToken').and.not.include('acme-oidc/clientSecret');
    expect(portal).to.not.include('acme-broker-signing/tls.key');
  });

  it('gives the broker every Secret each kind of IdP names (client secrets, private_key_jwt key, CA bundles), found by the SecretRef naming rule', () => {
    const tenant = context({
      identityProviders: [
        {
          name: 'corporate',
          emailDomains: ['acme.test'],
          oidc: {
            issuer: 'https://idp.example',
            clientId: 'jsm-sso',
            clientAuthMethod: 'private_key_jwt',
            privateKeySecretRef: { name: 'oidc-key' },
            caBundleSecretRef: { name: 'oidc-ca' },
          },
        },
        {
          name: 'social',
          emailDomains: ['social.test'],
          emailTrust: 'asserted',
          oauth2: {
            authorizationEndpoint: 'https://social.example/authorize',
            tokenEndpoint: 'https://social.example/token',
            userinfoEndpoint: 'https://social.example/me',
            clientId: 'jsm-sso',
            clientSecretRef: { name: 'social-client', key: 'secret' },
            caBundleSecretRef: { name: 'social-ca', key: 'bundle.pem' },
          },
        },
        {
          name: 'partner',
          emailDomains: ['partner.test'],
          emailTrust: 'asserted',
          saml: {
            metadataUrl: 'https://partner.example/metadata',
            caBundleSecretRef: { name: 'partner-ca' },
          },
        },
      ] as unknown as JsmSsoTenant['spec']['identityProviders'],
    }).tenant;
    const broker = secretKeysFor(tenant, 'broker').map((u) => `${u.secret}/${u.key}`);
    expect(broker).to.include.members([
      'oidc-key/private.pem',
      'oidc-ca/ca.crt',
      'social-client/secret',
      'social-ca/bundle.pem',
      'partner-ca/ca.crt',
    ]);
    const portal = secretKeysFor(tenant, 'portal').map((u) => u.secret);
    expect(portal).to.not.include.members(['oidc-key', 'social-client']);
  });

  it('gives the broker alone its decryption key pairs (spec.broker.encryptionSecretRef), the next pair only when present', () => {
    const { broker: spec } = context().tenant.spec;
    const tenant = context({ broker: { ...spec, encryptionSecretRef: { name: 'acme-decryption' } } }).tenant;
    const broker = secretKeysFor(tenant, 'broker').filter((u) => u.secret === 'acme-decryption');
    expect(broker).to.deep.equal([
      { secret: 'acme-decryption', key: 'next.crt', optional: true, pairedWith: 'next.key' },
      { secret: 'acme-decryption', key: 'next.key', optional: true, pairedWith: 'next.crt' },
      { secret: 'acme-decryption', key: 'tls.crt' },
      { secret: 'acme-decryption', key: 'tls.key' },
    ]);
    expect(secretKeysFor(tenant, 'portal').map((u) => u.secret)).to.not.include('acme-decryption');
  });

  it("says ConfigValid=False/SecretKeyMissing for half the decryption Secret's next pair, naming the half missing (ADR 0346)", () => {
    const { broker: spec } = context().tenant.spec;
    const decrypting = context({ broker: { ...spec, encryptionSecretRef: { name: 'acme-decryption' } } });
    const verdict = (keys: string[]) =>
      missingSecrets(
        allSecretKeys(decrypting.tenant),
        {
          ...decrypting.secrets,
          'acme-decryption': {
            keyHashes: Object.fromEntries(keys.map((k) => [k, `h-${k}`])),
            certificates: {},
            privateKeys: {},
          },
        },
        'ns',
      );
    expect(verdict(['tls.crt', 'tls.key'])).to.equal(undefined);
    expect(verdict(['tls.crt', 'tls.key', 'next.crt', 'next.key'])).to.equal(undefined);
    expect(verdict(['tls.crt', 'tls.key', 'next.key'])).to.deep.equal({
      reason: 'SecretKeyMissing',
      message:
        'add the missing keys: acme-decryption has next.key without next.crt: a next pair is both keys or neither (add next.crt, or remove next.key)',
    });
    expect(verdict(['tls.crt', 'next.crt'])?.message).to.equal(
      'add the missing keys: acme-decryption has next.crt without next.key: a next pair is both keys or neither (add next.key, or remove next.crt); acme-decryption has no key tls.key',
    );
  });

  it("projects a pooled tenant's decryption pair into its own projection, from which its broker reads it (ADR 0342)", () => {
    const { broker: spec } = context().tenant.spec;
    const decrypting = context({ broker: { ...spec, encryptionSecretRef: { name: 'acme-decryption' } } });
    const pair = makeKeyPair('pooled-decryption');
    const secrets = {
      ...decrypting.secrets,
      'acme-decryption': {
        keyHashes: { 'tls.crt': 'h-crt', 'tls.key': 'h-key' },
        certificates: {},
        privateKeys: {},
      },
    };
    const pool = { spec: {} } as JsmSsoPool;
    const projected = projectedUses(decrypting.tenant, pool, secrets).filter(
      (u) => u.secret === 'acme-decryption',
    );
    expect(projected.map(projectedKey)).to.deep.equal(['acme-decryption_tls.crt', 'acme-decryption_tls.key']);
    // A tenant of the same pool that names no decryption Secret gets none of it in its projection.
    expect(projectedUses(context().tenant, pool, secrets).map((u) => u.secret)).to.not.include(
      'acme-decryption',
    );
    const values = new Map([
      ['acme-decryption_tls.crt', pair.certPem],
      ['acme-decryption_tls.key', pair.keyPem],
    ]);
    const read = readDecryptionCredential(new ProjectedSecrets(values), 'acme-decryption', []);
    expect(read.certificatesPem).to.deep.equal([pair.certPem]);
    expect(read.keys.map((k) => k.export({ format: 'pem', type: 'pkcs8' }))).to.deep.equal([
      createPrivateKey(pair.keyPem).export({ format: 'pem', type: 'pkcs8' }),
    ]);
  });

  it('runs pods locked down, with probes on the management port and the peer certificate from the ConfigMap', () => {
    const d = desiredDeployment(context(), 'portal');
    const pod = d.spec!.template.spec!;
    const c = pod.containers[0]!;
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.securityContext?.runAsNonRoot).to.equal(true);
    expect(pod.securityContext?.seccompProfile?.type).to.equal('RuntimeDefault');
    expect(c.securityContext).to.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.securityContext?.capabilities?.drop).to.deep.equal(['ALL']);
    expect(c.args?.slice(0, 3)).to.deep.equal(['portal', '--config', '/etc/jsm-sso/tenant.yaml']);
    // No tenant URL may aim at the pod's own ports or sidecars over plain http (ADR 0217).
    expect(c.args).to.include('--outbound-https-only');
    // Graceful stop: the process drains for --drain-seconds, then finishes requests in flight; the
    // kubelet waits for all of it before SIGKILL.
    const drain = Number(c.args![c.args!.indexOf('--drain-seconds') + 1]);
    expect(drain).to.be.greaterThan(0);
    expect(pod.terminationGracePeriodSeconds).to.equal(terminationGraceSeconds(drain));
    expect(pod.terminationGracePeriodSeconds).to.be.greaterThan(drain + IN_FLIGHT_GRACE_SECONDS);
    expect(c.readinessProbe?.httpGet).to.deep.include({ path: '/readyz', port: 'management' });
    expect(c.livenessProbe?.httpGet).to.deep.include({ path: '/healthz', port: 'management' });
    expect(c.resources?.limits?.['memory']).to.be.a('string');
    const peer = pod.volumes!.find((v) => v.name === 'peer-certificate');
    expect(peer?.configMap?.items).to.deep.equal([{ key: 'broker-signing.crt', path: 'tls.crt' }]);
    const mount = c.volumeMounts!.find((m) => m.name === 'peer-certificate');
    expect(mount?.mountPath).to.equal('/var/run/jsm-sso/secrets/acme-broker-signing');
  });

  it("sizes the portal's /tmp for every upload it may spool at once, so that concurrent uploads do not get the pod evicted", () => {
    const mib = (part: 'broker' | 'portal', spec: Partial<JsmSsoTenant['spec']> = {}) => {
      const pod = desiredDeployment(context(spec), part).spec!.template.spec!;
      const tmp = pod.volumes!.find((v) => v.name === 'tmp')!;
      expect(pod.containers[0]!.volumeMounts).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
      return Number(/^(\d+)Mi$/.exec(tmp.emptyDir!.sizeLimit!)![1]);
    };
    // The CRD's defaults: 4 uploads at once, of 5 files of 10 MiB each, and as many ended ones whose
    // folders are still being removed (ADR 0250).
    expect(mib('portal')).to.equal(2 * 4 * 5 * 10 + TMP_BASE_MIB);
    const portal = tenantObject('ns', 'acme').spec.portal;
    const larger = {
      portal: { ...portal, limits: { maxConcurrentUploads: 16, maxUploadBytes: 100 * 2 ** 20 } },
    };
    expect(mib('portal', larger as never)).to.equal(2 * 16 * 5 * 100 + TMP_BASE_MIB);
    // The broker spools nothing.
    expect(mib('broker', larger as never)).to.equal(TMP_BASE_MIB);
  });

  it('passes ephemeral-storage through as the pod names it, and adds none to resources that do not (ADR 0165)', () => {
    const portal = tenantObject('ns', 'acme').spec.portal;
    const own = (resources: object) =>
      desiredDeployment(context({ portal: { ...portal, pod: { resources } } } as never), 'portal').spec!
        .template.spec!.containers[0]!.resources;
    expect(own({ requests: { cpu: '200m', 'ephemeral-storage': '1Gi' } })).to.deep.equal({
      requests: { cpu: '200m', 'ephemeral-storage': '1Gi' },
    });
    expect(own({ limits: { 'ephemeral-storage': '2Gi' } })).to.deep.equal({
      limits: { 'ephemeral-storage': '2Gi' },
    });
    // A request the node cannot meet when its kubelet reports no ephemeral-storage (no local storage
    // capacity isolation): the pod would never be scheduled, so none is added by default.
    expect(own({ requests: { cpu: '200m' } })).to.deep.equal({ requests: { cpu: '200m' } });
  });

  it('changes the pod hash when a mounted Secret changes, and only for the part that reads it', () => {
    const before = context();
    const after = context();
    after.secrets['acme-oidc']!.keyHashes['clientSecret'] = 'changed';
    expect(configHash(after, 'broker')).to.not.equal(configHash(before, 'broker'));
    expect(configHash(after, 'portal')).to.equal(configHash(before, 'portal'));
    expect(configHash(before, 'broker')).to.equal(configHash(context(), 'broker'));
  });

  it('exposes the public and management ports on the Service', () => {
    const s = desiredService(context(), 'broker');
    expect(s.spec?.ports?.map((p) => p.name)).to.deep.equal(['http', 'management']);
  });

  it('routes both hosts through the Ingress only when spec.ingress is set', () => {
    expect(desiredIngress(context())).to.equal(undefined);
    const ing = desiredIngress(
      context({ ingress: { className: 'nginx', tlsSecretName: 't', annotations: { a: 'b' } } }),
    )!;
    expect(ing.spec?.ingressClassName).to.equal('nginx');
    expect(ing.spec?.rules?.map((r) => r.host).sort()).to.deep.equal([
      'help.acme.example',
      'sso.acme.example',
    ]);
    expect(ing.spec?.tls?.[0]?.secretName).to.equal('t');
    expect(ing.metadata?.annotations).to.deep.equal({ a: 'b' });
  });

  it('adds a PodDisruptionBudget only with more than one replica', () => {
    expect(desiredPodDisruptionBudget(context(), 'broker')).to.equal(undefined);
    const redis = { urlSecretRef: { name: 'r', key: 'url' } };
    const pdb = desiredPodDisruptionBudget(
      context({ broker: { url: 'https://x', replicas: 3 }, redis } as never),
      'broker',
    );
    expect(pdb?.spec?.maxUnavailable).to.equal(1);
  });

  it('lets only the ingress namespace reach the public port and the metrics namespace the management port', () => {
    const np = desiredNetworkPolicy(context(), 'broker');
    expect(np.spec.ingress).to.deep.equal([
      {
        from: [{ namespaceSelector: { matchLabels: { ing: 'x' } } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
      {
        from: [{ namespaceSelector: { matchLabels: { mon: 'y' } } }],
        ports: [{ port: 9090, protocol: 'TCP' }],
      },
    ]);
  });

  it('selects every namespace with an empty selector in the form the API server keeps, so drift sees none', () => {
    const base = context();
    const open = {
      ...base,
      settings: { ...base.settings, ingressNamespaceLabels: {}, metricsNamespaceLabels: {} },
    };
    const np = desiredObjects(open).find((o) => o.kind === 'NetworkPolicy')!;
    const rules = (np['spec'] as { ingress: { from: unknown[] }[] }).ingress;
    expect(rules.map((r) => r.from)).to.deep.equal([
      [{ namespaceSelector: {} }],
      [{ namespaceSelector: {} }],
    ]);
    // What the API server returns: our fields (an empty selector kept as {}), plus its own.
    const live = structuredClone(np);
    live.metadata = { ...live.metadata, uid: 'np-1', resourceVersion: '7', generation: 1 };
    expect(needsApply(np, live)).to.equal(false);
  });

  it('builds the generated signing Secret as kubernetes.io/tls, owned by the tenant only when it asks for deletion', () => {
    const kept = desiredSigningSecret(context().tenant, 'broker', { certPem: 'C', keyPem: 'K' });
    expect(kept.type).to.equal('kubernetes.io/tls');
    expect(kept.metadata?.labels?.['app.kubernetes.io/instance']).to.equal('acme');
    expect(kept.metadata).to.not.have.property('ownerReferences');
    const owned = desiredSigningSecret(
      context({ signingSecretDeletionPolicy: 'Delete' } as never).tenant,
      'broker',
      { certPem: 'C', keyPem: 'K' },
    );
    expect(owned.metadata?.ownerReferences?.[0]).to.include({
      uid: 'uid-1',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('labels and owns every desired object, and is deterministic', () => {
    const a = desiredObjects(context());
    expect(a).to.deep.equal(desiredObjects(context()));
    for (const o of a) {
      expect(o.metadata.labels?.['app.kubernetes.io/part-of']).to.equal('jsm-sso');
      expect(o.metadata.ownerReferences?.[0]?.uid).to.equal('uid-1');
    }
  });
});

describe('operator drift detection', () => {
  it('sees no drift when the live object only adds server defaults', () => {
    const [desired] = desiredObjects(context());
    const live = structuredClone(desired!);
    live.metadata.resourceVersion = '5';
    (live as Record<string, unknown>)['extra'] = { defaulted: true };
    expect(needsApply(desired!, live)).to.equal(false);
  });

  it('sees drift when a field we set was changed or a list item removed', () => {
    expect(contains({ a: [1, 2] }, { a: [1, 2] })).to.equal(true);
    expect(contains({ a: [1] }, { a: [1, 2] })).to.equal(false);
    expect(contains({ a: { b: 2 } }, { a: { b: 1 } })).to.equal(false);
    // An empty string the API server drops from a struct is no drift; one a map of strings lost is.
    const toleration = { key: 'dedicated', operator: 'Exists', value: '' };
    expect(
      contains({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }, { tolerations: [toleration] }),
    ).to.equal(true);
    expect(contains({ metadata: { labels: {} } }, { metadata: { labels: { tier: '' } } })).to.equal(false);
    expect(contains({ data: {} }, { data: { empty: '' } })).to.equal(false);
  });

  it("compares a Service's ports by port and protocol, as server-side apply merges them, and a NetworkPolicy rule's ports whole", () => {
    const service = desiredService(context(), 'portal') as unknown as KubeObject;
    const live = structuredClone(service) as KubeObject & { spec: { ports: Record<string, unknown>[] } };
    // Another manager's port, first: theirs, and ours found by its keys.
    live.spec.ports.unshift({ name: 'debug', port: 9999, targetPort: 9999, protocol: 'TCP' });
    expect(needsApply(service, live), "with another manager's port").to.equal(false);
    live.spec.ports.find((p) => p['name'] === 'management')!['targetPort'] = 'http';
    expect(needsApply(service, live), 'with our port edited').to.equal(true);
    live.spec.ports = live.spec.ports.filter((p) => p['name'] !== 'management');
    expect(needsApply(service, live), 'without our port').to.equal(true);
    // A rule's ports are an atomic list: a port added there opens the pods further, and is undone.
    const policy = desiredNetworkPolicy(context(), 'portal') as unknown as KubeObject;
    const opened = structuredClone(policy) as KubeObject & { spec: { ingress: { ports: unknown[] }[] } };
    opened.spec.ingress[0]!.ports.push({ port: 9999, protocol: 'TCP' });
    expect(needsApply(policy, opened), 'a rule with a port added').to.equal(true);
  });

  it('sees no drift in Deployments as the API server stores them (canonical quantities, empty values dropped, items another manager added), and still sees ours changed', async () => {
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'drift');
    const tenant = tenantObject('ns', 'acme');
    const spec = {
      broker: {
        ...tenant.spec.broker,
        pod: {
          resources: {
            requests: { cpu: '1000m', memory: '0.5Gi' },
            limits: { cpu: 2, memory: '1024Mi', 'ephemeral-storage': '1.5Gi' },
          },
          tolerations: [{ key: 'dedicated', operator: 'Exists', value: '', effect: 'NoSchedule' }],
        },
      },
      // 8 uploads of 5 files of 24 MiB: /tmp is 64 + 960 = 1024 MiB, stored as 1Gi.
      portal: { ...tenant.spec.portal, limits: { maxUploadBytes: 24 * 2 ** 20, maxConcurrentUploads: 8 } },
    };
    for (const object of desiredObjects(context(spec as never)).filter((o) => o.kind === 'Deployment')) {
      const desired = { ...object, metadata: { ...object.metadata, namespace } };
      const path = `/apis/apps/v1/namespaces/${namespace}/deployments/${desired.metadata.name}`;
      const stored = await env.client.apply<KubeObject>(path, desired, {
        fieldManager: 'drift-test',
        dryRun: true,
      });
      expect(needsApply(desired, stored), `${desired.metadata.name} as stored`).to.equal(false);
      const pod = (stored['spec'] as V1DeploymentSpec).template.spec!;
      // `kubectl set env` puts its variable first; another manager's container, volume or port is theirs too.
      pod.containers[0]!.env!.unshift({ name: 'DEBUG', value: '1' });
      pod.containers[0]!.ports!.unshift({ name: 'mesh-admin', containerPort: 15000, protocol: 'TCP' });
      pod.containers.push({ name: 'debug', image: 'busybox' });
      pod.volumes!.push({ name: 'scratch', emptyDir: {} });
      expect(needsApply(desired, stored), `${desired.metadata.name} with another manager's items`).to.equal(
        false,
      );
      const ours = pod.containers[0]!.env!.find((e) => e.name !== 'DEBUG')!;
      ours.value = `${ours.value}-edited`;
      expect(needsApply(desired, stored), `${desired.metadata.name} with our variable edited`).to.equal(true);
      ours.value = ours.value.slice(0, -'-edited'.length);
      const port = pod.containers[0]!.ports!.find((p) => p.name === 'management')!;
      port.name = 'mgmt';
      expect(needsApply(desired, stored), `${desired.metadata.name} with our port renamed`).to.equal(true);
      port.name = 'management';
      pod.volumes!.splice(
        pod.volumes!.findIndex((v) => v.name === 'tmp'),
        1,
      );
      expect(needsApply(desired, stored), `${desired.metadata.name} without our /tmp`).to.equal(true);
    }
  });

  // Atomic lists and maps are compared whole (ADR 0374): what the API server fills in inside one of them (a
  // default) would read as drift at every edit someone makes, so every kind is judged as stored, with every
  // scheduling setting a tenant may give and a pool's own kinds.
  it('sees no drift in any object it applies as the API server stores it, its atomic lists and maps compared whole', async () => {
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'stored');
    const tenant = tenantObject('ns', 'acme');
    const pod = {
      ...EVERY_POD_SHAPE,
      // A toleration's empty value, which the API server drops.
      tolerations: [...EVERY_POD_SHAPE.tolerations, { key: 'dedicated', operator: 'Exists', value: '' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      imagePullSecrets: [{ name: 'registry' }],
    };
    const spec = {
      broker: { ...tenant.spec.broker, replicas: 2, pod },
      portal: { ...tenant.spec.portal, autoscaling: { minReplicas: 2, maxReplicas: 4 } },
      redis: { urlSecretRef: { name: 'acme-redis' } },
      ingress: { className: 'nginx', tlsSecretName: 't', annotations: { a: 'b' } },
    };
    const pool = {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace, uid: 'uid-pool' },
      spec: {
        redis: { urlSecretRef: { name: 'shared-redis', key: 'url' } },
        portal: { replicas: 2 },
        broker: {},
      },
    } as JsmSsoPool & KubeObject;
    const objects = [
      ...desiredObjects(context(spec as never)),
      ...desiredPoolObjects(
        poolContext(pool, TEST_OPERATOR_SETTINGS, { 'shared-redis': secretFacts(['url']) }),
      ),
    ];
    expect(objects.map((o) => o.kind)).to.include.members([
      'Deployment',
      'Service',
      'ConfigMap',
      'Ingress',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'HorizontalPodAutoscaler',
      'ServiceAccount',
      'Role',
      'RoleBinding',
    ]);
    for (const object of objects) {
      const desired = { ...object, metadata: { ...object.metadata, namespace } };
      const path = objectPath(kindByName(desired.kind!)!, namespace, desired.metadata.name!);
      const stored = await env.client.apply<KubeObject>(path, desired, {
        fieldManager: 'drift-test',
        dryRun: true,
      });
      expect(needsApply(desired, stored), `${desired.kind}/${desired.metadata.name} as stored`).to.equal(
        false,
      );
    }
  });

  it('writes quantities as the API server stores them', async () => {
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'quantity');
    const written = ['1000m', '0.5Gi', '1024Mi', 2, '100m', '0.1', '1.5Ki', '0.5Ki', '2000', '1.5', '1088Mi'];
    written.push('12e-1', '1e3', '1000M', '.5', '0', '3Ei', '1.5Gi', '1536Mi', '999999999999m');
    // A ResourceQuota keeps what it is given for requests.cpu as the API server stores quantities.
    const stored: string[] = [];
    for (const q of written) {
      const quota = await env.client.create<KubeObject & { spec: { hard: Record<string, string> } }>(
        `/api/v1/namespaces/${namespace}/resourcequotas`,
        {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'q' },
          spec: { hard: { 'requests.cpu': q } },
        },
        { dryRun: 'All' },
      );
      stored.push(quota.spec.hard['requests.cpu']!);
    }
    expect(stored.slice(0, 3)).to.deep.equal(['1', '512Mi', '1Gi']);
    expect(written.map((q) => canonicalQuantity(q))).to.deep.equal(stored);
    expect(canonicalQuantity('lots'), 'not a quantity: left to the API server to refuse').to.equal('lots');
  });

  it('re-applies when our own desired state changed', () => {
    const [desired] = desiredObjects(context());
    const live = structuredClone(desired!);
    live.metadata.annotations = { ...live.metadata.annotations, 'jsm-sso.io/applied-hash': 'old' };
    expect(needsApply(desired!, live)).to.equal(true);
  });
});

describe('operator status', () => {
  const ok = { status: 'True' as const, reason: 'Ok', message: 'ok' };
  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const first = computeStatus(
      undefined,
      { generation: 1, configValid: ok, applied: ok, broker: ok, portal: ok },
      new Date('2024-01-01T00:00:00Z'),
    );
    const second = computeStatus(
      first,
      { generation: 1, configValid: ok, applied: ok, broker: ok, portal: ok },
      new Date('2024-02-01T00:00:00Z'),
    );
    expect(sameStatus(first, second)).to.equal(true);
    expect(second.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
  });

  it('publishes what to register at each IdP: an OIDC and OAuth 2.0 client its URIs, a SAML IdP its own metadata', () => {
    const status = computeStatus(
      undefined,
      {
        generation: 1,
        configValid: ok,
        applied: ok,
        broker: ok,
        portal: ok,
        brokerUrl: 'https://sso.acme.example',
        identityProviders: [
          { name: 'corporate', oidc: { issuer: 'https://login.acme.example' } },
          { name: 'github', oauth2: { authorizationEndpoint: 'https://github.com/login/oauth/authorize' } },
          { name: 'partner', saml: { metadataUrl: 'https://idp.partner.example/metadata' } },
        ],
      },
      new Date(),
    );
    expect(status.identityProviderEndpoints).to.deep.equal([
      {
        name: 'corporate',
        // Two OIDC / OAuth 2.0 IdPs: one redirect URI each (ADR 0175).
        redirectUri: 'https://sso.acme.example/oidc/callback/corporate',
        postLogoutRedirectUri: 'https://sso.acme.example/oidc/logout-callback',
        backchannelLogoutUri: 'https://sso.acme.example/oidc/backchannel-logout/corporate',
        frontchannelLogoutUri: 'https://sso.acme.example/oidc/frontchannel-logout/corporate',
      },
      { name: 'github', redirectUri: 'https://sso.acme.example/oidc/callback/github' },
      {
        name: 'partner',
        spMetadataUrl: 'https://sso.acme.example/saml/sp-metadata/partner',
        soapLogoutUri: 'https://sso.acme.example/saml/backchannel-logout/partner',
      },
    ]);
  });

  it("writes the status again when only a SAML IdP's addresses change (the broker moved)", () => {
    const at = (brokerUrl: string) =>
      computeStatus(
        undefined,
        {
          generation: 1,
          configValid: ok,
          applied: ok,
          broker: ok,
          portal: ok,
          brokerUrl,
          identityProviders: [
            { name: 'partner', saml: { metadataUrl: 'https://idp.partner.example/metadata' } },
          ],
        },
        new Date('2024-01-01T00:00:00Z'),
      );
    const before = at('https://sso.acme.example');
    const moved = { ...at('https://login.acme.example'), brokerMetadataUrl: before.brokerMetadataUrl };
    expect(sameStatus(before, moved)).to.equal(false);
  });
});

describe('operator work queue', () => {
  it('holds a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.depth).to.equal(2);
    expect(await q.get()).to.equal('a');
    expect(await q.get()).to.equal('b');
  });

  it('never hands out a key being processed; re-adds it once done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.depth).to.equal(0);
    q.done(key!);
    expect(q.depth).to.equal(1);
  });

  it('backs off exponentially per key up to the maximum, and forgets on success', () => {
    const q = new WorkQueue({ baseBackoffMs: 100, maxBackoffMs: 1000 });
    expect([1, 2, 3, 4, 5].map((n) => q.backoffFor(n))).to.deep.equal([100, 200, 400, 800, 1000]);
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.failuresOf('a')).to.equal(2);
    q.forget('a');
    expect(q.failuresOf('a')).to.equal(0);
    q.shutdown();
  });

  it('counts a key waiting out its backoff as work left: operatorIdle waits for its retry', async () => {
    const queue = new WorkQueue({ baseBackoffMs: 3000 });
    let busy = 0;
    let retried = false;
    queue.addRateLimited('a');
    expect([queue.depth, queue.retrying]).to.deep.equal([0, 1]);
    // A worker as the controller's: the retry runs once its backoff ends.
    void queue.get().then(async (key) => {
      busy = 1;
      await new Promise((r) => setTimeout(r, 50));
      retried = true;
      busy = 0;
      queue.done(key!);
    });
    await operatorIdle(
      {
        queue,
        get busy() {
          return busy;
        },
      },
      10_000,
    );
    expect(retried, 'idle before the retry ran').to.equal(true);
    expect(queue.retrying).to.equal(0);
    queue.shutdown();
  });

  it('runs the keys of events before the waiting keys of a resync', async () => {
    const q = new WorkQueue();
    for (const k of ['r1', 'r2', 'r3']) q.addBackground(k);
    q.add('new');
    expect(q.depth).to.equal(4);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const key = (await q.get())!;
      order.push(key);
      if (key === 'r1') q.add('later');
      q.done(key);
    }
    order.push((await q.get())!);
    expect(order).to.deep.equal(['new', 'r1', 'later', 'r2', 'r3']);
  });

  it('runs a resync key once: not again when queued or running, moved up when an event adds it', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.addBackground('a');
    q.addBackground('b');
    q.addBackground('c');
    q.add('c');
    expect(q.depth).to.equal(3);
    const running = (await q.get())!;
    q.addBackground(running);
    const rest = [(await q.get())!, (await q.get())!];
    q.done(running);
    expect([running, ...rest]).to.deep.equal(['a', 'c', 'b']);
    expect(q.depth).to.equal(0);
  });

  it('limits the global rate with a token bucket', async () => {
    let now = 0;
    const q = new WorkQueue({ ratePerSecond: 10, burst: 2, now: () => now });
    for (const k of ['a', 'b', 'c']) q.add(k);
    await q.get();
    await q.get();
    let third = false;
    const granted = q.get().then((key) => {
      third = true;
      return key;
    });
    await new Promise((r) => setImmediate(r));
    expect(third).to.equal(false);
    // The queue looks again on a real timer of its own, at the held clock: the third key comes once
    // the clock has moved, awaited rather than slept for (the clock never moved, it never comes).
    now += 200;
    expect(await granted).to.equal('c');
  });
});
