// Rotating a signing key of the portal–broker hop with the runbook (operator/README.md, docs/production.md
// section 5), each step a rolling update of both parts: while one runs, pods of the step before and
// of the step after serve side by side, so every pod of either must be trusted by every pod of the
// other part of either. Each part's trust is the operator's: the certificates its Deployment mounts
// from the tenant's ConfigMap, read by the part's own code; the messages are real signatures checked
// by the portal's ServiceProvider and the broker's inbound checks (ADR 0285). The steps are the README's kubectl commands,
// run as written against a real API server: the Secret after each patch is a step.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { acceptAuthnRequest, acceptLogoutRequest } from '../../broker/saml/inbound.js';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { checkTenant } from '../../common/config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from '../../common/config/secrets.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { signingKeyMaterial } from '../../common/key-material.js';
import { packageRoot } from '../../common/paths.js';
import { desiredConfigMap } from '../../operator/resources/configmap.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import { signingSecretName } from '../../operator/resources/secret-refs.js';
import { secretFacts } from '../../operator/secret-facts.js';
import { configuredBrokerCertificates } from '../../portal/saml/broker-certificates.js';
import { ServiceProvider } from '../../portal/saml/sp.js';
import { csrfMatches, SessionStore } from '../../portal/session.js';
import { envtest, freshNamespace, runScript } from '../../testkit/envtest.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { TEST_HASH_KEY } from '../../testkit/operator-controller.js';
import { hopLogoutResponseQuery, hopResponseSignedBy } from '../../testkit/saml-fixtures.js';
import { tenantObject } from '../../testkit/tenants.js';

const tenant = checkTenant(tenantObject('ns', 'acme'));
const PORTAL = tenant.spec.portal.url;
const BROKER = tenant.spec.broker.url;
const settings = { image: 'img', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} };
const PARTS = ['broker', 'portal'] as const;
type Part = (typeof PARTS)[number];
/** Each part's pair before its rotation. */
const before: Record<Part, KeyPair> = {
  broker: makeKeyPair('acme broker old'),
  portal: makeKeyPair('acme portal old'),
};

/** A signing Secret's pairs at one step: `tls` signs, `next` is published beside it. */
interface Step {
  name: string;
  tls: KeyPair;
  next?: KeyPair;
}

/** Both signing Secrets at one step of a rotation (`name`): what a pod started then reads. */
type Generation = Record<Part, Step> & { name: string };

/** The broker's swap as the runbook had it before ADR 0285: next.* removed in the patch that swaps. */
const newBroker = makeKeyPair('acme broker new');
const ONE_PATCH_SWAP: Step[] = [
  { name: 'before', tls: before.broker },
  { name: '1. next published', tls: before.broker, next: newBroker },
  { name: '3. swapped, next removed', tls: newBroker },
];

/** The sh block of operator/README.md under `heading`, as a platform engineer copies it. */
function documentedCommands(heading: string): string {
  const text = readFileSync(join(packageRoot(), 'operator/README.md'), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`operator/README.md has no "${heading}"`);
  return /```sh\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
}

/**
 * `part`'s signing Secret before and after each `kubectl patch` of the commands under `heading`,
 * run in a namespace of a real API server from the pair `before`. The waits for people and pods
 * (`rollout status`) and the tenant's status (no operator runs here) are skipped.
 */
async function documentedSteps(heading: string, part: Part): Promise<Step[]> {
  const env = await envtest();
  const namespace = await freshNamespace(env.client, 'acme');
  const secret = `acme-${part}-signing`;
  await env.client.create(`/api/v1/namespaces/${namespace}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret },
    type: 'kubernetes.io/tls',
    data: base64Data({ name: 'before', tls: before[part] }),
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
    const script = documentedCommands(heading).replaceAll('-n acme ', `-n ${namespace} `);
    const result = runScript(env, wrapper + script);
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
    // The commands do rotate: the last step signs with another key, alone.
    expect(after.at(-1)!.tls.certPem).to.not.equal(before[part].certPem);
    expect(after.at(-1)!.next).to.equal(undefined);
    return [{ name: 'before', tls: before[part] }, ...after];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function base64Data(step: Step): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [slot, pair] of [
    ['tls', step.tls],
    ['next', step.next],
  ] as const) {
    if (!pair) continue;
    data[`${slot}.crt`] = Buffer.from(pair.certPem).toString('base64');
    data[`${slot}.key`] = Buffer.from(pair.keyPem).toString('base64');
  }
  return data;
}

/**
 * The secrets directory of a `part` pod of `generation`: its own pair (a Secret volume) and the
 * other part's certificates where the operator's Deployment mounts them from the ConfigMap.
 */
function podSecrets(generation: Generation, part: Part, root: string): SecretDirectory {
  const secrets = Object.fromEntries(
    PARTS.map((p) => [
      signingSecretName(tenant, p),
      secretFacts(
        { metadata: { name: p }, type: 'kubernetes.io/tls', data: base64Data(generation[p]) },
        TEST_HASH_KEY,
      ),
    ]),
  );
  const context = { tenant, settings, secrets };
  const ownSecret = signingSecretName(tenant, part);
  const ownData = base64Data(generation[part]);
  const configMap = desiredConfigMap(context);
  const pod = desiredDeployment(context, part).spec!.template.spec!;
  for (const mount of pod.containers[0]!.volumeMounts ?? []) {
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    if (!mount.mountPath.startsWith(`${POD_SECRETS_DIR}/`)) continue;
    const dir = join(root, mount.mountPath.slice(POD_SECRETS_DIR.length));
    mkdirSync(dir, { recursive: true });
    // The part's own signing pair, each key the Deployment mounts of it; the other's certificates.
    if (volume.secret?.secretName === ownSecret)
      for (const item of volume.secret.items ?? [])
        writeFileSync(join(dir, item.path), Buffer.from(ownData[item.key]!, 'base64'));
    for (const item of volume.configMap?.items ?? [])
      writeFileSync(join(dir, item.path), configMap.data![item.key]!);
  }
  return new SecretDirectory(root);
}

function portalPod(generation: Generation, root: string): ServiceProvider {
  const secrets = podSecrets(generation, 'portal', root);
  return new ServiceProvider({
    portalUrl: PORTAL,
    brokerUrl: BROKER,
    signingKeyPem: generation.portal.tls.keyPem,
    signingCertPem: generation.portal.tls.certPem,
    brokerCertificates: configuredBrokerCertificates(secrets, signingSecretName(tenant, 'broker'))!,
    replayStore: new MemoryFlowStore(),
    signatureAlgorithm: 'rsa-sha256',
  });
}

/** What a portal pod and a broker pod (each of its generation) refuse of each other's messages. */
async function refusedBetween(
  broker: Generation,
  portalGeneration: Generation,
  root: string,
): Promise<string[]> {
  const portal = portalPod(portalGeneration, join(root, 'portal'));
  const brokerSettings = resolveBrokerSettings(tenant, podSecrets(broker, 'broker', join(root, 'broker')));
  const refused: string[] = [];
  const refusal = (what: string) => (err: { code?: string }) => refused.push(`${what} ${err.code}`);
  const query = (url: string) => new URL(url).search.slice(1);
  const at = (url: string) => ({ url, now: new Date(), replay: new MemoryFlowStore() });

  const request = portal.authnRedirect();
  await acceptAuthnRequest(
    { kind: 'redirect', rawQuery: query(request.url) },
    brokerSettings.sp,
    at(brokerSettings.ssoUrl),
  ).catch(refusal('AuthnRequest'));
  const xml = await hopResponseSignedBy(broker.broker.tls, BROKER, PORTAL);
  await portal.acs(Buffer.from(xml).toString('base64'), '_request').catch(refusal('Response'));
  const logout = portal.logoutRedirect({ nameId: 'alice@acme.test' }, 'relay');
  await acceptLogoutRequest(
    { kind: 'redirect', rawQuery: query(logout.url) },
    brokerSettings.sp,
    at(brokerSettings.sloUrl),
  ).catch(refusal('LogoutRequest'));
  const answer = hopLogoutResponseQuery(broker.broker.tls, BROKER, PORTAL, logout.requestId);
  await portal.logoutResponse(answer, logout.requestId).catch(refusal('LogoutResponse'));
  return refused;
}

/** What is refused while each step of `generations` rolls out: every broker pod × portal pod. */
async function refusedDuringRollouts(generations: Generation[]): Promise<string[]> {
  const refused: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'jsm-sso-rotation-'));
  try {
    for (let i = 1; i < generations.length; i++) {
      const side = [generations[i - 1]!, generations[i]!];
      for (const [b, broker] of side.entries()) {
        for (const [p, portal] of side.entries()) {
          for (const what of await refusedBetween(broker, portal, join(root, `${i}-${b}-${p}`))) {
            refused.push(`broker of "${broker.name}" ↔ portal of "${portal.name}": ${what}`);
          }
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return refused;
}

/**
 * What happens to customers signed in during a rotation of the portal's key: a session (and a form it
 * showed) made by a portal pod of each step, used by pods of the step before (side by side in the
 * rollout) and of every later step, in that order, with one store, as the portal's pods share it. Each
 * pod's SessionStore gets the key material the portal reads from what its Deployment mounts.
 */
async function portalSessionsDuringRotation(generations: Generation[]): Promise<string[]> {
  const store = new MemoryFlowStore();
  const root = mkdtempSync(join(tmpdir(), 'jsm-sso-rotation-'));
  const customer = { accountId: 'acc-1', displayName: 'Alice', serviceDeskIds: ['1'], organizationIds: [] };
  const pods = generations.map((generation, i) => {
    const secrets = podSecrets(generation, 'portal', join(root, `${i}`));
    const material = signingKeyMaterial(secrets, signingSecretName(tenant, 'portal'));
    return new SessionStore(store, { idleSeconds: 3600, absoluteSeconds: 28_800 }, material);
  });
  const events: string[] = [];
  try {
    for (const [made, maker] of pods.entries()) {
      const session = await maker.create({ customer, isAdmin: false, subject: '' });
      for (let used = Math.max(0, made - 1); used < pods.length; used++) {
        const where = `session made at "${generations[made]!.name}", used at "${generations[used]!.name}"`;
        const current = await pods[used]!.get(session.id);
        if (!current) {
          events.push(`${where}: signed out`);
          break;
        }
        if (!csrfMatches(current, session.csrf)) events.push(`${where}: its form refused`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return events;
}

const rotating = (part: Part, steps: Step[]): Generation[] =>
  steps.map((step) => ({
    name: step.name,
    broker: { name: 'broker', tls: before.broker },
    portal: { name: 'portal', tls: before.portal },
    [part]: step,
  }));

describe('rotating a signing key of the hop, pods of two steps side by side (ADR 0285)', function () {
  this.timeout(60_000);

  it("refuses no sign-in and no logout at any step of operator/README.md's broker key commands", async () => {
    const steps = await documentedSteps("Rotating the broker's key", 'broker');
    expect(await refusedDuringRollouts(rotating('broker', steps))).to.deep.equal([]);
  });

  it("refuses no sign-in and no logout at any step of operator/README.md's portal key commands", async () => {
    const steps = await documentedSteps("Rotating the portal's key", 'portal');
    expect(await refusedDuringRollouts(rotating('portal', steps))).to.deep.equal([]);
  });

  it("signs no customer out at the portal key commands' swap, and ends the old key's sessions at their last patch (ADR 0298)", async () => {
    const steps = await documentedSteps("Rotating the portal's key", 'portal');
    expect(steps.map((step) => step.name)).to.deep.equal(['before', 'patch 1', 'patch 2', 'patch 3']);
    // Sealed under the old key (made before the swap): open until the old key leaves the Secret, so
    // that removing it revokes them (a leaked key). Under the new key: open on pods of either side.
    expect(await portalSessionsDuringRotation(rotating('portal', steps))).to.deep.equal([
      'session made at "before", used at "patch 3": signed out',
      'session made at "patch 1", used at "patch 3": signed out',
    ]);
  });

  it('would refuse them when the broker swap dropped the old certificate at once (why the runbook keeps it as next)', async () => {
    const refused = 'broker of "1. next published" ↔ portal of "3. swapped, next removed"';
    expect(await refusedDuringRollouts(rotating('broker', ONE_PATCH_SWAP))).to.deep.equal([
      `${refused}: Response SAML_SIGNATURE_INVALID`,
      `${refused}: LogoutResponse SAML_SIGNATURE_INVALID`,
    ]);
  });
});
