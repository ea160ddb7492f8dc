// The product on a real single-node Kubernetes: kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler, containerd and a kubelet (testkit/node-cluster.ts). The image `npm run image`
// builds is loaded into containerd under the name the README's quick start uses; the quick start's
// commands run exactly as the README writes them (helm install, kubectl, the example tenant). Then
// the operator pods that helm installed reconcile a second tenant whose broker and portal pods sign
// a customer in with Chromium, against the dev IdP and the JSM emulator on the host over HTTPS. The
// IdP client Secret is rotated (the broker rolls out), a pod is deleted (it comes back), and
// `helm upgrade` brings a chart whose CRD changed. Last, a JsmSsoPool serves two tenants from one
// broker and one portal pod over HTTPS, each tenant's own certificate chosen by SNI (ADR 0125), with
// its flow store on a Redis that requires the pool's client certificate (ADR 0124); a customer of
// each signs in. The second tenant keeps its sessions on that Redis too, and its deletion runs the
// Job that purges its keys there (spec.redis.purgeOnDeletion, ADR 0427). Its own CI stage:
// `npm run test:cluster` (root).
// docs/decisions/0070-a-single-node-cluster-in-ci.md.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../common/paths.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { PURGE_FINALIZER } from '../../operator/redis-purge.js';
import {
  CONFIG_HASH_ANNOTATION,
  MANAGEMENT_PORT,
  PARTS,
  type Part,
  PUBLIC_PORT,
} from '../../operator/resources/common.js';
import { PURGE_COMPONENT } from '../../operator/resources/purge-job.js';
import { REDIS_KEYS_PURGED } from '../../operator/tenant-deletion.js';
import { launchChromium } from '../../testkit/chromium.js';
import { eventually, k8sToolsDir } from '../../testkit/envtest.js';
import { type NodeCluster, startNodeCluster } from '../../testkit/node-cluster.js';
import { type NodeRedis, startNodeRedis } from '../../testkit/node-redis.js';
import { imageArchive } from '../../testkit/oci-image.js';
import { type IssuedCertificate, makeTestCa, type TestCa } from '../../testkit/pki.js';
import { forwardToPods, type PodForward, readyPodIp } from '../../testkit/pod-forward.js';
import { eventuallyClosed, probeFromContainer, probeFromPod } from '../../testkit/pod-probe.js';
import { podRefusal, RESTRICTED_NAMESPACE_LABELS, UNHARDENED_POD } from '../../testkit/pod-security.js';
import {
  opaqueSecret,
  signInAtPortal,
  startTenantServices,
  TENANT,
  type TenantServices,
  tenantResource,
  tlsSecret,
} from '../../testkit/tenant-services.js';
import { TENANTS_OF_ANY_NAMESPACE } from '../../testkit/tenants.js';
import { probeTls } from '../../testkit/tls-probe.js';

const README_SECTION = '## Kubernetes: install and create a first tenant';
const RELEASE = { name: 'jsm-sso', namespace: 'jsm-sso-system' };
const CRD_NAME = 'jsmssotenants.jsm-sso.io';

/** The README's quick-start commands (its first sh block under README_SECTION) and the image they name. */
function readmeQuickStart(readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8')) {
  const section = readme.indexOf(README_SECTION);
  if (section < 0) throw new Error(`README.md has no "${README_SECTION}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(section));
  if (!block) throw new Error(`README.md's "${README_SECTION}" has no sh block`);
  const script = block[1]!;
  const repository = /--set image\.repository=(\S+)/.exec(script)?.[1];
  const tag = /--set image\.tag=(\S+)/.exec(script)?.[1];
  if (!repository || !tag) throw new Error('the README quick start sets no image.repository and image.tag');
  return { script, image: `${repository}:${tag}` };
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface TenantObject {
  metadata: { generation: number; uid: string; finalizers?: string[] };
  status?: { conditions?: (Condition & { observedGeneration?: number })[] };
}
interface DeploymentObject {
  metadata: { generation: number };
  spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> } } };
  status?: {
    observedGeneration?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    replicas?: number;
  };
}
interface PodObject {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status?: { podIP?: string; conditions?: Condition[] };
}

/** A core/v1 Event, as `kubectl get events` reads it (events.k8s.io ones included). */
interface EventObject {
  involvedObject: { kind: string; name: string; uid?: string };
  reason: string;
  type: string;
  count?: number;
}

const isReady = (conditions: Condition[] | undefined) =>
  conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('the single-node cluster start', () => {
  /** The bridge a start made (its progress names it), if any, and whether it still exists. */
  const bridgeOf = (message: string) => /node network: bridge (\S+),/.exec(message)?.[1];
  const exists = (link: string) => spawnSync('ip', ['link', 'show', link], { stdio: 'ignore' }).status === 0;

  it('stops with the missing tool named and how to build it, and leaves no bridge behind', async function () {
    this.timeout(120_000);
    const tools = k8sToolsDir(true);
    const partial = mkdtempSync(join(tmpdir(), 'jsm-sso-tools-'));
    try {
      for (const tool of [
        'kube-apiserver',
        'etcd',
        'kube-controller-manager',
        'kube-scheduler',
        'pause',
        'pause.oci.tar',
      ]) {
        symlinkSync(join(tools, tool), join(partial, tool));
      }
      const failure = await startNodeCluster({}, partial).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failure?.message).to.match(/kubelet missing: run JSM_SSO_WITH_NODE=1 bash \.ci\/k8s-tools\.sh/);
      // It stopped before making anything outside its temp dir.
      expect(bridgeOf(failure!.message)).to.equal(undefined);
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });

  it('stops on a step that fails half way with its message and the logs, and removes what it made', async function () {
    this.timeout(300_000);
    // The control plane and containerd are up and the bridge exists when the image import fails.
    const failure = await startNodeCluster({
      'registry.example/missing:1': '/nonexistent/missing.oci.tar',
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failure?.message).to.include(
      'image archive /nonexistent/missing.oci.tar (for registry.example/missing:1) not found',
    );
    expect(failure?.message).to.match(/==> \S+\/containerd\.log <==/);
    const bridge = bridgeOf(failure!.message);
    expect(bridge, 'the failed start had made its bridge').to.be.a('string');
    expect(exists(bridge!), `bridge ${bridge} removed`).to.equal(false);
    const stateDir = /logs were in (\S+)/.exec(failure!.message)?.[1];
    expect(stateDir, 'the failed start names its state folder').to.be.a('string');
    expect(existsSync(stateDir!), `${stateDir} removed`).to.equal(false);
    // No process (etcd, kube-apiserver, containerd, a shim) still names it.
    expect(spawnSync('pgrep', ['-f', stateDir!]).status, `processes of ${stateDir}`).to.equal(1);
  });
});

describe('a single-node cluster: helm install, a tenant, a sign-in through its pods', function () {
  // Every namespace below enforces the restricted Pod Security Standard (the README's quick start
  // labels its two; the others are made so here): a pod of the chart, the operator or a pool that
  // did not meet it would never be created, and the waits for Ready pods would fail.
  this.timeout(900_000);
  const quickStart = readmeQuickStart();
  let cluster: NodeCluster;

  /** The state to print when a wait fails: the pods' logs and the node's recent complaints. */
  const diagnostics = (namespace: string) => () =>
    [
      cluster.podLogs(namespace),
      cluster.podLogs(RELEASE.namespace, 15),
      `--- kubelet\n${cluster.logTail('kubelet', 15)}`,
    ].join('\n');

  const tenantReady = async (namespace: string) => {
    const tenant = await cluster.client.get<TenantObject>(objectPath(KINDS.tenant, namespace, TENANT));
    const ready = tenant?.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && ready.observedGeneration === tenant!.metadata.generation;
  };

  /** Every pod of the part is Ready and runs the Deployment's current template: the rollout is done. */
  const rolledOut = async (namespace: string, part: 'broker' | 'portal') => {
    const deployment = await cluster.client.get<DeploymentObject>(
      objectPath(KINDS.deployment, namespace, `${TENANT}-${part}`),
    );
    if (!deployment?.status || deployment.status.observedGeneration !== deployment.metadata.generation)
      return false;
    const { replicas } = deployment.spec;
    const s = deployment.status;
    if (s.updatedReplicas !== replicas || s.readyReplicas !== replicas || s.replicas !== replicas)
      return false;
    return deployment;
  };

  const podsOf = async (namespace: string, part: 'broker' | 'portal') =>
    (
      await cluster.client.list<PodObject>(`/api/v1/namespaces/${namespace}/pods`, {
        labelSelector: `app.kubernetes.io/instance=${TENANT},app.kubernetes.io/component=${part}`,
      })
    ).items;

  /** The namespace's PodSecurity admission refuses an unhardened pod, so the pods running there passed it. */
  const expectRestricted = async (namespace: string) => {
    expect(
      await podRefusal(cluster.client, namespace, 'unhardened', UNHARDENED_POD),
      `PodSecurity admission in ${namespace}`,
    ).to.match(/violates PodSecurity "restricted:latest"/);
  };

  /** A namespace that admits only pods meeting the restricted Pod Security Standard. */
  const restrictedNamespace = async (name: string) => {
    await cluster.client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: RESTRICTED_NAMESPACE_LABELS },
    });
    await expectRestricted(name);
  };

  /** The Redis the dedicated sign-in tenant and the pool keep their state on, on the host. */
  let nodeRedis: NodeRedis;

  before(async () => {
    const archive = await imageArchive();
    cluster = await startNodeCluster({ [quickStart.image]: archive });
    nodeRedis = await startNodeRedis(cluster.nodeAddress);
  });

  after(async () => {
    try {
      await nodeRedis?.stop();
    } finally {
      cluster?.stop();
    }
  });

  describe("the README's Kubernetes quick start, run as written", () => {
    it('installs the operator with helm, and the example tenant gets its Deployments and a Ready status', async () => {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-x', '-c', quickStart.script], {
        cwd: packageRoot(),
        env: cluster.env,
        encoding: 'utf8',
        // helm --wait and kubectl wait have 5 minutes each; a loaded machine may need most of one.
        timeout: 600_000,
      });
      expect(run.status, `the quick start failed:\n${run.stdout}\n${run.stderr}`).to.equal(0);
      // Its namespaces enforce the restricted Pod Security Standard, so every pod below passed it.
      for (const namespace of [RELEASE.namespace, 'acme']) await expectRestricted(namespace);
      // Step 4: the tenant is Ready and the listing names what the operator made for it.
      expect(run.stdout).to.match(/^acme\s+True\s+https:\/\/help\.acme\.example/m);
      expect(run.stdout).to.match(/deployment\.apps\/acme-broker\s+1\/1/);
      expect(run.stdout).to.match(/deployment\.apps\/acme-portal\s+1\/1/);
      // Step 5: what to register at the IdP.
      expect(run.stdout).to.include('"redirectUri":"https://sso.acme.example/oidc/callback"');

      const operator = await eventually(
        async () => {
          const d = await cluster.client.get<DeploymentObject>(
            objectPath(KINDS.deployment, RELEASE.namespace, RELEASE.name),
          );
          return d?.status?.readyReplicas === 2 && d;
        },
        'the two operator replicas helm installed to be Ready',
        240_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${diagnostics(RELEASE.namespace)()}`);
      });
      expect(operator.spec.replicas).to.equal(2);
      for (const pod of await cluster.client
        .list<PodObject>(`/api/v1/namespaces/${RELEASE.namespace}/pods`)
        .then((l) => l.items)) {
        expect(pod.spec.nodeName).to.equal('jsm-sso-node');
        expect(pod.spec.containers[0]!.image).to.equal(quickStart.image);
      }
      await eventually(() => tenantReady('acme'), 'the example tenant to be Ready', 240_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}\n${diagnostics('acme')()}`);
        },
      );
      const describe = execFileSync('kubectl', ['-n', 'acme', 'describe', 'jsmssotenant', 'acme'], {
        env: cluster.env,
        encoding: 'utf8',
      });
      expect(describe).to.match(/Signing Certificate Fingerprint:/);
    });
  });

  describe('a tenant whose pods sign a customer in', () => {
    const namespace = 'signin';
    let services: TenantServices | undefined;
    const forwards: Partial<Record<'broker' | 'portal', PodForward>> = {};
    let browser: Browser | undefined;
    const logs = () => diagnostics(namespace)();

    before(async () => {
      const selector = (part: string) =>
        `app.kubernetes.io/instance=${TENANT},app.kubernetes.io/component=${part}`;
      // The pods serve TLS themselves (tlsSecretRef) with a certificate for the loopback address the
      // browser reaches them at, as behind a TLS-passthrough ingress.
      for (const part of ['broker', 'portal'] as const) {
        forwards[part] = await forwardToPods(cluster.client, namespace, selector(part), PUBLIC_PORT, 'https');
      }
      services = await startTenantServices(cluster.nodeAddress, forwards.broker!.url);
      const podPair = services.ca.issue({ hosts: ['127.0.0.1'] });
      const redis = nodeRedis.consumer(TENANT);
      await restrictedNamespace(namespace);
      for (const secret of [...services.secrets(), tlsSecret('acme-pods-tls', podPair), ...redis.secrets]) {
        await cluster.client.create(collectionPath(KINDS.secret, namespace), secret);
      }
      const tenant = tenantResource(
        services,
        { portal: forwards.portal!.url, broker: forwards.broker!.url },
        {
          portal: { tlsSecretRef: { name: 'acme-pods-tls' } },
          broker: { tlsSecretRef: { name: 'acme-pods-tls' } },
        },
      );
      // Reconciled by the operator pods the quick start installed (it watches every namespace). Its
      // sessions are kept in Redis, and purged from it by a Job when it is deleted (the last case).
      await cluster.client.create(collectionPath(KINDS.tenant, namespace), {
        ...tenant,
        spec: { ...tenant.spec, redis: { ...redis.spec, purgeOnDeletion: true } },
      });
      browser = await launchChromium([services.hostPair.certPem, podPair.certPem]);
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      for (const forward of Object.values(forwards)) await forward?.close();
      await services?.close();
    });

    it('gets a Ready broker and portal pod from the image on the node, and the tenant Ready', async () => {
      await eventually(() => tenantReady(namespace), 'the tenant to be Ready', 300_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}\n${logs()}`);
        },
      );
      for (const part of ['broker', 'portal'] as const) {
        await eventually(() => rolledOut(namespace, part), `the ${part} pods`, 120_000);
        const [pod] = await podsOf(namespace, part);
        expect(pod!.spec.nodeName).to.equal('jsm-sso-node');
        expect(pod!.spec.containers[0]!.image).to.equal(quickStart.image);
        expect(isReady(pod!.status?.conditions)).to.equal(true);
      }
    });

    it('signs a customer in with a browser through the portal and broker pods', async () => {
      await signInAtPortal(browser!, forwards.portal!.url, services!.idp.issuer, logs);
    });

    it('rolls the broker out when the IdP client Secret rotates, and signs in with the new secret', async () => {
      const before = (await rolledOut(namespace, 'broker')) as DeploymentObject;
      const oldHash = before.spec.template.metadata.annotations?.[CONFIG_HASH_ANNOTATION];
      const oldPods = new Set((await podsOf(namespace, 'broker')).map((p) => p.metadata.uid));
      const clientSecret = await services!.rotateClientSecret();
      await cluster.client.apply(
        objectPath(KINDS.secret, namespace, 'acme-oidc'),
        opaqueSecret('acme-oidc', { clientSecret }),
        { fieldManager: 'jsm-sso-tests' },
      );
      const after = await eventually(
        async () => {
          const d = await rolledOut(namespace, 'broker');
          if (!d || d.spec.template.metadata.annotations?.[CONFIG_HASH_ANNOTATION] === oldHash) return false;
          const pods = await podsOf(namespace, 'broker');
          // The old pods are gone, not only outnumbered.
          return pods.every((p) => !oldPods.has(p.metadata.uid)) && d;
        },
        'the broker Deployment to roll out a new template',
        240_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
      expect(after.spec.template.metadata.annotations?.[CONFIG_HASH_ANNOTATION]).to.not.equal(oldHash);
      await signInAtPortal(browser!, forwards.portal!.url, services!.idp.issuer, logs);
    });

    it('brings a deleted portal pod back, and signs in through the new one', async () => {
      const [old] = await podsOf(namespace, 'portal');
      await cluster.client.delete(`/api/v1/namespaces/${namespace}/pods/${old!.metadata.name}`);
      const replacement = await eventually(
        async () => {
          const pods = await podsOf(namespace, 'portal');
          const fresh = pods.find(
            (p) => p.metadata.uid !== old!.metadata.uid && isReady(p.status?.conditions),
          );
          return pods.every((p) => p.metadata.uid !== old!.metadata.uid) && fresh;
        },
        'a new Ready portal pod in place of the deleted one',
        180_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
      expect(replacement.metadata.name).to.not.equal(old!.metadata.name);
      expect(
        await readyPodIp(
          cluster.client,
          namespace,
          `app.kubernetes.io/instance=${TENANT},app.kubernetes.io/component=portal`,
        ),
      ).to.equal(replacement.status!.podIP);
      await signInAtPortal(browser!, forwards.portal!.url, services!.idp.issuer, logs);
    });

    // The node enforces NetworkPolicies (kube-router's firewall, ADR 0431); the sign-ins above ran under
    // them, so the broker's way to its IdP and Redis is open. Here, what the policies close.
    it('lets the management ports be reached only from the metrics namespace, and the operator out only to the API server (NetworkPolicies enforced)', async () => {
      const brokerIp = (await readyPodIp(
        cluster.client,
        namespace,
        `app.kubernetes.io/instance=${TENANT},app.kubernetes.io/component=broker`,
      ))!;
      const [operator] = (
        await cluster.client.list<PodObject>(`/api/v1/namespaces/${RELEASE.namespace}/pods`, {
          labelSelector: 'app.kubernetes.io/name=jsm-sso',
        })
      ).items.filter((pod) => isReady(pod.status?.conditions));
      const operatorIp = operator!.status!.podIP!;
      // monitoring: the chart's default networkPolicy.metricsNamespaceSelector; elsewhere: any other.
      for (const name of ['monitoring', 'elsewhere']) await restrictedNamespace(name);
      const probe = (from: string, name: string, host: string, port: number) =>
        probeFromPod(
          cluster.client,
          cluster.env,
          { namespace: from, name, image: quickStart.image },
          host,
          port,
        );

      const operatorPod = { namespace: RELEASE.namespace, name: operator!.metadata.name! };

      // Every probe is made and then compared at once, so that a red run names each one that differs. A
      // reach denied is probed again while seen open, for a minute (eventuallyClosed).
      const reach = {
        // The tenant's parts (operator/resources/networkpolicy.ts): the public port from any namespace
        // (the chart's empty ingressNamespaceSelector), the management port from the metrics one only.
        'elsewhere to the broker public port': await probe(
          'elsewhere',
          'broker-public',
          brokerIp,
          PUBLIC_PORT,
        ),
        'monitoring to the broker management port': await probe(
          'monitoring',
          'broker-mgmt',
          brokerIp,
          MANAGEMENT_PORT,
        ),
        'elsewhere to the broker management port': await eventuallyClosed((n) =>
          probe('elsewhere', `broker-mgmt-${n}`, brokerIp, MANAGEMENT_PORT),
        ),
        // The operator's own (the chart's templates/networkpolicy.yaml): in, the same for its management port;
        // out, DNS and the API server (443, 6443) only, so not the tenant's Redis on the node, nor a part.
        'monitoring to the operator management port': await probe(
          'monitoring',
          'op-mgmt',
          operatorIp,
          MANAGEMENT_PORT,
        ),
        'elsewhere to the operator management port': await eventuallyClosed((n) =>
          probe('elsewhere', `op-mgmt-${n}`, operatorIp, MANAGEMENT_PORT),
        ),
        'the operator to Redis': await eventuallyClosed(() =>
          probeFromContainer(cluster.env, operatorPod, cluster.nodeAddress, nodeRedis.redis.port),
        ),
        'the operator to the broker public port': await eventuallyClosed(() =>
          probeFromContainer(cluster.env, operatorPod, brokerIp, PUBLIC_PORT),
        ),
      };
      expect(reach).to.deep.equal({
        'elsewhere to the broker public port': 'open',
        'monitoring to the broker management port': 'open',
        'elsewhere to the broker management port': 'closed',
        'monitoring to the operator management port': 'open',
        'elsewhere to the operator management port': 'closed',
        'the operator to Redis': 'closed',
        'the operator to the broker public port': 'closed',
      });
    });

    it('upgrades the CRD with helm upgrade to a chart whose CRD changed; the tenants stay Ready', async () => {
      const chart = join(mkdtempSync(join(tmpdir(), 'jsm-sso-chart-')), 'jsm-sso');
      try {
        cpSync(join(packageRoot(), 'charts/jsm-sso'), chart, { recursive: true });
        const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { version: string };
        meta.version = `${meta.version}-crd-upgrade`;
        writeFileSync(join(chart, 'Chart.yaml'), stringify(meta));
        const crdFile = join(chart, 'files/jsmssotenant.crd.yaml');
        const crd = parse(readFileSync(crdFile, 'utf8'));
        crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.upgradeProbe = {
          type: 'string',
          description: 'An optional field only the upgrade test adds.',
        };
        writeFileSync(crdFile, stringify(crd));

        execFileSync(
          'helm',
          [
            'upgrade',
            RELEASE.name,
            chart,
            '--namespace',
            RELEASE.namespace,
            '--reset-then-reuse-values',
            '--wait',
            '--timeout',
            '4m',
          ],
          { env: cluster.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const live = await cluster.client.get<typeof crd>(objectPath(KINDS.crd, undefined, CRD_NAME));
        expect(
          live.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties,
          'the upgraded CRD has the new field',
        ).to.have.property('upgradeProbe');
        const history = execFileSync(
          'helm',
          ['history', RELEASE.name, '-n', RELEASE.namespace, '-o', 'json'],
          {
            env: cluster.env,
            encoding: 'utf8',
          },
        );
        expect((JSON.parse(history) as { status: string }[]).at(-1)!.status).to.equal('deployed');
        for (const ns of ['acme', namespace]) {
          await eventually(() => tenantReady(ns), `the tenant in ${ns} to stay Ready`, 120_000);
        }
        await signInAtPortal(browser!, forwards.portal!.url, services!.idp.issuer, logs);
      } finally {
        rmSync(join(chart, '..'), { recursive: true, force: true });
      }
    });

    it("purges its keys from its Redis by a Job's pod when deleted (spec.redis.purgeOnDeletion), others' left, and goes once the Job succeeded", async () => {
      const path = objectPath(KINDS.tenant, namespace, TENANT);
      const live = (await cluster.client.get<TenantObject>(path))!;
      expect(live.metadata.finalizers, 'the finalizers of the live tenant').to.include(PURGE_FINALIZER.name);
      const keysUnder = (prefix: string) =>
        nodeRedis.cli('--scan', '--pattern', `${prefix}*`).split('\n').filter(Boolean);
      const own = `jsm-sso:${namespace}/${TENANT}@${live.metadata.uid}:`;
      expect(keysUnder(own).length, "the keys of this tenant's sign-ins").to.be.above(0);
      // Another tenant's key, and one an earlier tenant of this name left: not this incarnation's.
      const others = [
        `jsm-sso:acme/${TENANT}@${randomUUID()}:session:other-tenant`,
        `jsm-sso:${namespace}/${TENANT}@${randomUUID()}:session:earlier-incarnation`,
      ];
      for (const key of others) nodeRedis.cli('set', key, 'kept', 'EX', '3600');

      execFileSync('kubectl', ['-n', namespace, 'delete', 'jsmssotenant', TENANT, '--wait=false'], {
        env: cluster.env,
      });
      const job = `${TENANT}-${PURGE_COMPONENT}`;
      const purgeLogs = () =>
        [
          execFileSync('kubectl', ['-n', namespace, 'get', 'jsmssotenant,jobs,pods', '-o', 'wide'], {
            env: cluster.env,
            encoding: 'utf8',
          }),
          execFileSync('kubectl', ['-n', namespace, 'get', 'events', '--sort-by=.lastTimestamp'], {
            env: cluster.env,
            encoding: 'utf8',
          }),
          logs(),
        ].join('\n');
      await eventually(
        async () => (await cluster.client.get(path)) === undefined,
        'the deleted tenant to be gone',
        180_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${purgeLogs()}`);
      });

      // Counted, not listed: a key names a session.
      expect(keysUnder(own).length, "the tenant's keys left after the deletion").to.equal(0);
      for (const key of others) expect(nodeRedis.cli('get', key).trim(), key).to.equal('kept');
      // The Job made one pod, which succeeded: a pod the restricted namespace refused, or one that
      // failed, would be a FailedCreate, or a second SuccessfulCreate before Completed.
      const events = await eventually(
        async () => {
          const all = (await cluster.client.list<EventObject>(`/api/v1/namespaces/${namespace}/events`))
            .items;
          const completed = all.some((e) => e.involvedObject.name === job && e.reason === 'Completed');
          const purged = all.some(
            (e) =>
              e.involvedObject.uid === live.metadata.uid &&
              e.reason === REDIS_KEYS_PURGED &&
              e.type === 'Normal',
          );
          return completed && purged && all;
        },
        `the Events of Job ${job} and of the tenant`,
        60_000,
      );
      const ofJob = events.filter((e) => e.involvedObject.kind === 'Job' && e.involvedObject.name === job);
      expect(
        ofJob.map((e) => `${e.reason} x${e.count ?? 1}`),
        'the Events of the Job',
      ).to.have.members(['SuccessfulCreate x1', 'Completed x1']);
      const started = events.filter(
        (e) =>
          e.involvedObject.kind === 'Pod' &&
          e.involvedObject.name.startsWith(`${job}-`) &&
          e.reason === 'Started',
      );
      expect(started, "the purge pod's start on the node").to.have.length(1);
      // Its answer taken, the operator deleted the Job, and the garbage collector its NetworkPolicy.
      await eventually(
        async () =>
          (await cluster.client.get(objectPath(KINDS.job, namespace, job))) === undefined &&
          (await cluster.client.get(objectPath(KINDS.networkPolicy, namespace, job))) === undefined,
        `Job ${job} and its NetworkPolicy to be gone`,
        60_000,
      );
    });
  });

  describe('a pool whose shared pods serve each tenant HTTPS with its own certificate and sign its customers in', () => {
    const pools = 'pools';
    const poolSelector = (part: string) =>
      `app.kubernetes.io/name=jsm-sso-pool,app.kubernetes.io/instance=shared,app.kubernetes.io/component=${part}`;
    /**
     * One forward per part, as one Service would be: the pool tells the tenants apart by host name,
     * in SNI and in Host. Each tenant is at https://<namespace>.localhost:<port> (Chromium resolves
     * .localhost to loopback itself, ADR 0128), with a certificate per part from a CA of its own.
     */
    const forwards: Partial<Record<Part, PodForward>> = {};
    const placed: {
      namespace: string;
      host: string;
      services: TenantServices;
      certificates: Record<Part, IssuedCertificate>;
    }[] = [];
    let poolCa: TestCa | undefined;
    /** The portal's default certificate (spec.portal.tls.defaultSecretRef), for names no tenant has. */
    let portalDefault: IssuedCertificate;
    let browser: Browser | undefined;
    const logs = () =>
      [diagnostics(pools)(), ...placed.map((t) => cluster.podLogs(t.namespace, 10))].join('\n');
    const portOf = (part: Part) => Number(new URL(forwards[part]!.url).port);

    /** The serial of the certificate the part's pod serves to a client naming `servername`, unverified. */
    const servedSerial = async (part: Part, servername: string) => {
      const result = await probeTls(portOf(part), { servername, rejectUnauthorized: false });
      return result.ok ? result.serial : result.code;
    };

    before(async () => {
      await restrictedNamespace(pools);
      poolCa = makeTestCa('jsm-sso pool test CA');
      portalDefault = poolCa.issue({ hosts: ['pool.localhost'] });
      const redis = nodeRedis.consumer('shared');
      for (const secret of [tlsSecret('shared-portal-default-tls', portalDefault), ...redis.secrets])
        await cluster.client.create(collectionPath(KINDS.secret, pools), secret);
      // The portal with a default certificate, the broker with the tenants' own only (docs/placement.md).
      await cluster.client.create(collectionPath(KINDS.pool, pools), {
        apiVersion: 'jsm-sso.io/v1alpha1',
        kind: 'JsmSsoPool',
        metadata: { name: 'shared', namespace: pools },
        spec: {
          portal: { tls: { defaultSecretRef: { name: 'shared-portal-default-tls' } } },
          broker: { tls: {} },
          tenants: TENANTS_OF_ANY_NAMESPACE,
          // The tenants' IdPs and Atlassian emulators listen on the node's private address; a pool's
          // pods call no private address but those allowed (ADR 0219).
          egress: { allowedNetworks: [`${cluster.nodeAddress}/32`] },
          // Redis refuses connections without the client certificate (ADR 0124); the first test
          // finds the pods' connections at Redis.
          redis: redis.spec,
        },
      });
      for (const part of PARTS) {
        forwards[part] = await forwardToPods(cluster.client, pools, poolSelector(part), PUBLIC_PORT, 'https');
      }
      for (const namespace of ['pool-a', 'pool-b']) {
        const host = `${namespace}.localhost`;
        const urls = {
          portal: `https://${host}:${portOf('portal')}`,
          broker: `https://${host}:${portOf('broker')}`,
        };
        const services = await startTenantServices(cluster.nodeAddress, urls.broker);
        const certificates = {
          portal: services.ca.issue({ hosts: [host] }),
          broker: services.ca.issue({ hosts: [host] }),
        };
        placed.push({ namespace, host, services, certificates });
        await restrictedNamespace(namespace);
        for (const secret of [
          ...services.secrets(),
          ...PARTS.map((part) => tlsSecret(`${TENANT}-${part}-tls`, certificates[part])),
        ])
          await cluster.client.create(collectionPath(KINDS.secret, namespace), secret);
        const tenant = tenantResource(services, urls, {
          portal: { tlsSecretRef: { name: `${TENANT}-portal-tls` } },
          broker: { tlsSecretRef: { name: `${TENANT}-broker-tls` } },
        });
        await cluster.client.create(collectionPath(KINDS.tenant, namespace), {
          ...tenant,
          spec: { ...tenant.spec, placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } } },
        });
      }
      browser = await launchChromium(
        placed.flatMap((t) => [t.services.hostPair.certPem, ...PARTS.map((p) => t.certificates[p].certPem)]),
      );
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      for (const forward of Object.values(forwards)) await forward?.close();
      for (const tenant of placed) await tenant.services.close();
      poolCa?.cleanup();
    });

    it('runs one broker and one portal pod for the pool, and every tenant placed in it is Ready', async () => {
      for (const tenant of placed) {
        await eventually(
          () => tenantReady(tenant.namespace),
          `the tenant in ${tenant.namespace}`,
          300_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${logs()}`);
        });
        const own = await cluster.client.list(collectionPath(KINDS.deployment, tenant.namespace));
        expect(own.items, `Deployments in ${tenant.namespace}`).to.have.length(0);
      }
      const pool = await cluster.client.get<{ status?: { tenantCount?: number; conditions?: Condition[] } }>(
        objectPath(KINDS.pool, pools, 'shared'),
      );
      expect(pool?.status?.tenantCount).to.equal(2);
      expect(isReady(pool?.status?.conditions)).to.equal(true);
      for (const part of PARTS) {
        const pods = await cluster.client.list<PodObject>(`/api/v1/namespaces/${pools}/pods`, {
          labelSelector: poolSelector(part),
        });
        expect(pods.items, `${part} pods`).to.have.length(1);
        expect(pods.items[0]!.spec.containers[0]!.image).to.equal(quickStart.image);
        // Its flow store is the pool's Redis, reached with the client certificate: a pod without
        // the Redis arguments would run on memory and be Ready all the same.
        const ip = pods.items[0]!.status?.podIP;
        expect(nodeRedis.cli('client', 'list'), 'Redis clients').to.include(` addr=${ip}:`);
      }
    });

    it("serves each tenant's own certificate to clients naming its host (SNI), verified against the tenant's CA; other names get the default or no handshake", async () => {
      for (const tenant of placed) {
        for (const part of PARTS) {
          // Until the pod has read the tenant's projection, its name gets what unknown names get.
          const served = await eventually(
            async () => {
              const serial = await servedSerial(part, tenant.host);
              return /^[0-9A-F]+$/.test(serial) && serial !== portalDefault.serial && serial;
            },
            `the ${part} pod to serve a certificate of its own to ${tenant.host}`,
            60_000,
          ).catch((err: Error) => {
            throw new Error(`${err.message}\n${logs()}`);
          });
          expect(served, `${part} certificate for ${tenant.host}`).to.equal(tenant.certificates[part].serial);
          // As a client that trusts only this tenant's CA and checks the host name would see it.
          const verified = await probeTls(portOf(part), {
            servername: tenant.host,
            ca: tenant.services.ca.caPem,
          });
          expect(verified, `${part} at ${tenant.host}`).to.include({ ok: true });
        }
      }
      expect(await servedSerial('portal', 'unknown.localhost')).to.equal(portalDefault.serial);
      const byDefault = await probeTls(portOf('portal'), { servername: 'pool.localhost', ca: poolCa!.caPem });
      expect(byDefault).to.include({ ok: true, serial: portalDefault.serial });
      expect(await servedSerial('broker', 'unknown.localhost')).to.equal(
        'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE',
      );
    });

    it('signs a customer of each tenant in through the shared pods over HTTPS', async () => {
      for (const tenant of placed) {
        await signInAtPortal(
          browser!,
          `https://${tenant.host}:${portOf('portal')}`,
          tenant.services.idp.issuer,
          logs,
        );
      }
    });

    it("serves a tenant's rotated certificate from the next handshake, without restarting the pool's pods", async () => {
      const [first, second] = placed;
      const podUids = async () =>
        (
          await cluster.client.list<PodObject>(`/api/v1/namespaces/${pools}/pods`, {
            labelSelector: poolSelector('broker'),
          })
        ).items.map((p) => p.metadata.uid);
      const before = await podUids();
      const rotated = first!.services.ca.issue({ hosts: [first!.host] });
      await cluster.client.apply(
        objectPath(KINDS.secret, first!.namespace, `${TENANT}-broker-tls`),
        tlsSecret(`${TENANT}-broker-tls`, rotated),
        { fieldManager: 'jsm-sso-tests' },
      );
      await eventually(
        async () => (await servedSerial('broker', first!.host)) === rotated.serial,
        `the broker pod to serve the rotated certificate to ${first!.host}`,
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
      expect(await servedSerial('broker', second!.host)).to.equal(second!.certificates.broker.serial);
      expect(await podUids()).to.deep.equal(before);
    });
  });
});
