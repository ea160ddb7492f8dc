// Rotating the broker's signing key with the runbook (operator/README.md, docs/production.md
// section 5), each step a rolling update of both parts: while one runs, pods of the step before and
// of the step after serve side by side, so every broker pod of either must be trusted by every
// portal pod of either. The portal's trust is the operator's: the certificates its Deployment mounts
// from the tenant's ConfigMap, read by the portal's own code; the messages are real signatures
// checked by the portal's ServiceProvider (ADR 0285). The steps are the README's kubectl commands,
// run as written against a real API server: the Secret after each patch is a step.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from '../../common/config/secrets.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { packageRoot } from '../../common/paths.js';
import { desiredConfigMap } from '../../operator/resources/configmap.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import { signingSecretName } from '../../operator/resources/secret-refs.js';
import { secretFacts } from '../../operator/secret-facts.js';
import { configuredBrokerCertificates } from '../../portal/saml/broker-certificates.js';
import { ServiceProvider } from '../../portal/saml/sp.js';
import { envtest, freshNamespace, runScript } from '../../testkit/envtest.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { hopLogoutResponseQuery, hopResponseSignedBy } from '../../testkit/saml-fixtures.js';
import { tenantObject } from '../../testkit/tenants.js';

const tenant = checkTenant(tenantObject('ns', 'acme'));
const PORTAL = tenant.spec.portal.url;
const BROKER = tenant.spec.broker.url;
const settings = { image: 'img', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} };
const old = makeKeyPair('acme broker old');
/** The new pair of the one-patch swap (the README's commands make their own with openssl). */
const fresh = makeKeyPair('acme broker new');
const portalKey = makeKeyPair('acme portal');

/** The broker signing Secret's pairs at one step: `tls` signs, `next` is published beside it. */
interface Step {
  name: string;
  tls: KeyPair;
  next?: KeyPair;
}

/** The swap as the runbook had it before ADR 0285: next.* removed in the patch that swaps. */
const ONE_PATCH_SWAP: Step[] = [
  { name: 'before', tls: old },
  { name: '1. next published', tls: old, next: fresh },
  { name: '3. swapped, next removed', tls: fresh },
];

/** The sh block of operator/README.md's broker key rotation, as a platform engineer copies it. */
function documentedRotation(): string {
  const text = readFileSync(join(packageRoot(), 'operator/README.md'), 'utf8');
  const at = text.indexOf("Rotating the broker's key");
  if (at < 0) throw new Error('operator/README.md has no broker key rotation');
  return /```sh\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
}

/**
 * The broker signing Secret's pairs before and after each `kubectl patch` of the documented
 * rotation, run in `namespace` of a real API server from `old`'s pair. The waits for people and
 * pods (`rollout status`) and the tenant's status (no operator runs here) are skipped.
 */
async function documentedSteps(): Promise<Step[]> {
  const env = await envtest();
  const namespace = await freshNamespace(env.client, 'acme');
  const secret = 'acme-broker-signing';
  await env.client.create(`/api/v1/namespaces/${namespace}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret },
    type: 'kubernetes.io/tls',
    data: base64Data({ name: 'before', tls: old }, true),
  });
  const work = mkdtempSync(join(tmpdir(), 'jsm-sso-rotation-'));
  const snapshots = join(work, 'secrets.jsonl');
  const wrapper = `
    cd ${work}
    kubectl() {
      case "$*" in *" rollout status "*|*" get jsmssotenant "*) return 0 ;; esac
      command kubectl "$@"
      case "$*" in *" patch secret ${secret} "*)
        command kubectl -n ${namespace} get secret ${secret} -o jsonpath='{.data}' >> ${snapshots}
        echo >> ${snapshots} ;;
      esac
    }
  `;
  try {
    const result = runScript(env, wrapper + documentedRotation().replaceAll('-n acme ', `-n ${namespace} `));
    expect(result.status, `${result.stdout}\n${result.stderr}`).to.equal(0);
    const pair = (data: Record<string, string>, slot: string): KeyPair | undefined =>
      data[`${slot}.crt`] === undefined
        ? undefined
        : {
            certPem: Buffer.from(data[`${slot}.crt`]!, 'base64').toString(),
            keyPem: Buffer.from(data[`${slot}.key`]!, 'base64').toString(),
          };
    const after = readFileSync(snapshots, 'utf8')
      .trim()
      .split('\n')
      .map((line, i) => {
        const data = JSON.parse(line) as Record<string, string>;
        const next = pair(data, 'next');
        return { name: `patch ${i + 1}`, tls: pair(data, 'tls')!, ...(next ? { next } : {}) };
      });
    return [{ name: 'before', tls: old }, ...after];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function base64Data(step: Step, withKeys: boolean): Record<string, string> {
  const pairs: [string, KeyPair | undefined][] = [
    ['tls', step.tls],
    ['next', step.next],
  ];
  const data: Record<string, string> = {};
  for (const [slot, pair] of pairs) {
    if (!pair) continue;
    data[`${slot}.crt`] = Buffer.from(pair.certPem).toString('base64');
    if (withKeys) data[`${slot}.key`] = Buffer.from(pair.keyPem).toString('base64');
  }
  return data;
}

/** A portal pod of `step`: the broker certificates it trusts, as the operator mounts them. */
function portalPod(step: Step, root: string): ServiceProvider {
  const context = {
    tenant,
    settings,
    secrets: {
      [signingSecretName(tenant, 'broker')]: secretFacts({
        metadata: { name: 'signing' },
        type: 'kubernetes.io/tls',
        data: base64Data(step, true),
      }),
      [signingSecretName(tenant, 'portal')]: secretFacts({
        metadata: { name: 'signing' },
        type: 'kubernetes.io/tls',
        data: base64Data({ name: 'portal', tls: portalKey }, true),
      }),
    },
  };
  const configMap = desiredConfigMap(context);
  const pod = desiredDeployment(context, 'portal').spec!.template.spec!;
  for (const mount of pod.containers[0]!.volumeMounts ?? []) {
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    if (!mount.mountPath.startsWith(`${POD_SECRETS_DIR}/`) || !volume.configMap) continue;
    const dir = join(root, mount.mountPath.slice(POD_SECRETS_DIR.length));
    mkdirSync(dir, { recursive: true });
    for (const item of volume.configMap.items ?? [])
      writeFileSync(join(dir, item.path), configMap.data![item.key]!);
  }
  return new ServiceProvider({
    portalUrl: PORTAL,
    brokerUrl: BROKER,
    signingKeyPem: portalKey.keyPem,
    signingCertPem: portalKey.certPem,
    brokerCertificates: configuredBrokerCertificates(
      new SecretDirectory(root),
      signingSecretName(tenant, 'broker'),
    )!,
    replayStore: new MemoryFlowStore(),
    signatureAlgorithm: 'rsa-sha256',
  });
}

/** A sign-in's Response and a logout's LogoutResponse signed by a broker pod of `step`. */
async function brokerPodAnswers(step: Step, portal: ServiceProvider): Promise<string[]> {
  const xml = await hopResponseSignedBy(step.tls, BROKER, PORTAL);
  const refused: string[] = [];
  const refusal = (what: string) => (err: { code?: string }) => refused.push(`${what} ${err.code}`);
  await portal.acs(Buffer.from(xml).toString('base64'), '_request').catch(refusal('sign-in'));
  const { requestId } = portal.logoutRedirect({ nameId: 'alice@acme.test' }, 'relay');
  const query = hopLogoutResponseQuery(step.tls, BROKER, PORTAL, requestId);
  await portal.logoutResponse(query, requestId).catch(refusal('logout'));
  return refused;
}

/** What the portal refuses while each step of `runbook` rolls out: broker pod × portal pod. */
async function refusedDuringRollouts(runbook: Step[]): Promise<string[]> {
  const refused: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'jsm-sso-rotation-'));
  try {
    for (let i = 1; i < runbook.length; i++) {
      for (const [p, portalStep] of [runbook[i - 1]!, runbook[i]!].entries()) {
        const portal = portalPod(portalStep, join(root, `${i}-${p}`));
        for (const brokerStep of [runbook[i - 1]!, runbook[i]!]) {
          for (const what of await brokerPodAnswers(brokerStep, portal)) {
            refused.push(`broker of "${brokerStep.name}" → portal of "${portalStep.name}": ${what}`);
          }
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return refused;
}

describe("rotating the broker's signing key, pods of two steps side by side (ADR 0285)", function () {
  this.timeout(60_000);

  it("refuses no sign-in and no logout at any step of operator/README.md's commands", async () => {
    const steps = await documentedSteps();
    // The commands do rotate: the last step signs with a key other than the first's, alone.
    expect(steps.at(-1)!.tls.certPem).to.not.equal(old.certPem);
    expect(steps.at(-1)!.next).to.equal(undefined);
    expect(await refusedDuringRollouts(steps)).to.deep.equal([]);
  });

  it('would refuse them when the swap dropped the old certificate at once (why the runbook keeps it as next)', async () => {
    expect(await refusedDuringRollouts(ONE_PATCH_SWAP)).to.deep.equal([
      'broker of "1. next published" → portal of "3. swapped, next removed": sign-in SAML_SIGNATURE_INVALID',
      'broker of "1. next published" → portal of "3. swapped, next removed": logout SAML_SIGNATURE_INVALID',
    ]);
  });
});
