import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { WorkQueue } from '../../operator/queue.js';
import { admissionPolicy } from '../../testkit/admission-policy.js';
import { capturingDestination } from '../../testkit/captured-logs.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  reconcileErrors,
  startTestController,
  type TestController,
} from '../../testkit/operator-controller.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import type { TenantEvent, TenantWithStatus } from '../../testkit/pool-ready.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

const WEBHOOKS = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const POLICY_MESSAGE = 'Services need the label cost-center (policy require-cost-center)';
/** The longest wait between two retries of a refused tenant here. */
const MAX_BACKOFF_MS = 2_000;

interface AdmissionReview {
  request: { uid: string; name: string; operation: string; kind: { kind: string } };
}

/**
 * The cluster's admission refusing a write of the operator's: a third-party policy engine's
 * validating webhook (a real HTTPS server of the test's own, called by the API server) denying a
 * tenant's Service, and a ValidatingAdmissionPolicy denying its Deployment. What a platform engineer
 * reads on the tenant, how often the operator tries again, and that it recovers once the policy lets
 * the write through.
 */
describe('admission refusing a tenant’s Deployment or Service (real API server, a webhook and a policy)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let test: TestController;
  let controller: Controller;
  let namespace: string;
  let ca: TestCa;
  let webhook: Server;
  let denying = true;
  /** The Services the webhook was asked about (name per call), allowed or not. */
  const asked: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const webhookName = `deny-services-${process.pid}.jsm-sso.test`;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'admission');
    ca = makeTestCa();
    const { certPem, keyPem } = ca.issue({ hosts: ['127.0.0.1'] });
    webhook = createServer({ cert: certPem, key: keyPem }, (request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const review = JSON.parse(body) as AdmissionReview;
        asked.push(review.request.name);
        const allowed = !denying || !review.request.name.startsWith('hook-');
        response.setHeader('Content-Type', 'application/json');
        response.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: {
              uid: review.request.uid,
              allowed,
              ...(allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: POLICY_MESSAGE } }),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    await env.client.create(WEBHOOKS, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: webhookName },
      webhooks: [
        {
          name: webhookName,
          clientConfig: {
            url: `https://127.0.0.1:${(webhook.address() as AddressInfo).port}/validate`,
            caBundle: Buffer.from(ca.caPem).toString('base64'),
          },
          rules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              resources: ['services'],
              operations: ['CREATE', 'UPDATE'],
            },
          ],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          // The most the API allows: an answer a loaded machine delays is still the policy's denial. A
          // call past the timeout is refused in other words, and the tenant's status changes with them.
          timeoutSeconds: 30,
        },
      ],
    });
    // The API server loads webhook configurations asynchronously: enforced once a dry run is refused.
    await eventually(
      async () =>
        env.client
          .create(
            collectionPath(KINDS.service, namespace),
            {
              apiVersion: 'v1',
              kind: 'Service',
              metadata: { name: 'hook-probe' },
              spec: { ports: [{ port: 80 }] },
            },
            { dryRun: 'All' },
          )
          .then(
            () => false,
            () => true,
          ),
      'the webhook enforced',
    );
    test = await startTestController(env, {
      namespace,
      instance: 'admission-refused',
      logDestination: capturingDestination(logs),
      // The operator's backoff, capped: a loaded machine that reaches a wait only after many failed
      // retries would otherwise wait out minutes-long backoffs past the waits' and the test's deadlines.
      queue: new WorkQueue({ maxBackoffMs: MAX_BACKOFF_MS }),
    });
    controller = test.controller;
  });

  after(async () => {
    await controller?.stop();
    test?.client.close();
    await env?.client.delete(`${WEBHOOKS}/${webhookName}`);
    webhook?.close();
    ca?.cleanup();
  });

  const conditionOf = (object: TenantWithStatus | undefined, type: string) =>
    object?.status?.conditions?.find((c) => c.type === type);

  function conditionWith(name: string, type: string, status: string, timeoutMs?: number) {
    return eventually(
      async () => {
        const tenant = await env.client.get<TenantWithStatus>(objectPath(KINDS.tenant, namespace, name));
        return conditionOf(tenant, type)?.status === status ? tenant : undefined;
      },
      `${type} ${status} on ${name}`,
      timeoutMs,
    );
  }

  async function warningReasons(name: string): Promise<string[]> {
    const events = await env.client.list<TenantEvent>(collectionPath(KINDS.event, namespace));
    return events.items.filter((e) => e.regarding.name === name && e.type === 'Warning').map((e) => e.reason);
  }

  /**
   * The refusal said once and retried with backoff: two more failed retries write no status and no
   * new Event, and each is one write of the refused object.
   */
  async function retriedQuietly(name: string, refused: () => number): Promise<void> {
    const statusWrites: string[] = [];
    test.client.onWrite = (_method, path) => {
      if (path.endsWith(`/jsmssotenants/${name}/status`)) statusWrites.push(path);
    };
    const warnings = await warningReasons(name);
    const key = `${namespace}/${name}`;
    const failures = controller.queue.failuresOf(key);
    const refusedBefore = refused();
    await eventually(async () => controller.queue.failuresOf(key) >= failures + 2, 'two more failed retries');
    expect(statusWrites, 'status writes while refused the same way').to.deep.equal([]);
    expect(await warningReasons(name)).to.deep.equal(warnings);
    // Each retry writes the refused object once (give or take one in flight at either end): the
    // writes follow the backoff (0.5 s doubling up to MAX_BACKOFF_MS), no loop of their own.
    const retries = controller.queue.failuresOf(key) - failures;
    expect(refused() - refusedBefore).to.be.within(retries - 1, retries + 1);
  }

  it('says which Service a webhook denies and its message, retries with backoff, and applies it once allowed', async () => {
    const errorsBefore = (await reconcileErrors(test.registry))['ApplyFailed'] ?? 0;
    await createTenantSecrets(env.client, namespace, 'hook');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'hook'));
    const tenant = await conditionWith('hook', 'Applied', 'False');
    for (const type of ['Applied', 'Ready']) {
      const condition = conditionOf(tenant, type)!;
      expect(condition.reason, type).to.equal('ApplyFailed');
      // The object, the webhook and its message: what a platform engineer takes to the policy's owner.
      expect(condition.message, type)
        .to.match(/^Service hook-(broker|portal) could not be applied/)
        .and.include(`admission webhook "${webhookName}" denied the request: ${POLICY_MESSAGE}`);
    }
    expect(conditionOf(tenant, 'ConfigValid')?.status).to.equal('True');
    await eventually(
      async () => (await warningReasons('hook')).includes('ApplyFailed'),
      'a Warning Event ApplyFailed',
    );
    // The status and the Event are written before the worker counts and logs the failure: wait for
    // the line, logged after the count, do not race it.
    await eventually(
      async () =>
        logs.some(
          (l) =>
            l['event'] === 'operator.reconcile_failed' &&
            l['tenant'] === `${namespace}/hook` &&
            l['reason'] === 'ApplyFailed',
        ),
      'the reconcile_failed log line',
    );
    expect((await reconcileErrors(test.registry))['ApplyFailed']).to.be.above(errorsBefore);
    await retriedQuietly('hook', () => asked.filter((n) => n.startsWith('hook-')).length);

    denying = false;
    // The next retry (within MAX_BACKOFF_MS) applies both Services.
    const applied = await conditionWith('hook', 'Applied', 'True', 60_000);
    expect(conditionOf(applied, 'Applied')?.reason).to.equal('ObjectsApplied');
    for (const part of ['broker', 'portal'])
      expect(await env.client.get(objectPath(KINDS.service, namespace, `hook-${part}`))).to.not.equal(
        undefined,
      );
  });

  it('says which Deployment a ValidatingAdmissionPolicy denies and its message, and applies it once the policy goes', async () => {
    const deployment = objectPath(KINDS.deployment, namespace, 'vap-broker');
    const policy = await admissionPolicy(env.client, {
      name: `${namespace}-approved-deployments`,
      namespace,
      rule: { apiGroups: ['apps'], resources: ['deployments'], operations: ['CREATE', 'UPDATE'] },
      expression: "!object.metadata.name.startsWith('vap-')",
      message: 'Deployments need an approved image (policy approved-images)',
      reason: 'Forbidden',
      refused: () =>
        env.client.create<KubeObject>(
          collectionPath(KINDS.deployment, namespace),
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'vap-probe' },
            spec: {
              selector: { matchLabels: { app: 'probe' } },
              template: {
                metadata: { labels: { app: 'probe' } },
                spec: { containers: [{ name: 'c', image: 'x' }] },
              },
            },
          },
          { dryRun: 'All' },
        ),
    });
    try {
      await createTenantSecrets(env.client, namespace, 'vap');
      await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'vap'));
      const tenant = await conditionWith('vap', 'Applied', 'False');
      const applied = conditionOf(tenant, 'Applied')!;
      expect(applied.reason).to.equal('ApplyFailed');
      expect(applied.message)
        .to.match(/^Deployment vap-(broker|portal) could not be applied/)
        .and.include('Deployments need an approved image (policy approved-images)');
      await eventually(
        async () => (await warningReasons('vap')).includes('ApplyFailed'),
        'a Warning Event ApplyFailed',
      );
      expect(await env.client.get(deployment)).to.equal(undefined);
    } finally {
      await policy.remove();
    }
    await conditionWith('vap', 'Applied', 'True', 60_000);
    expect(await env.client.get(deployment)).to.not.equal(undefined);
  });
});
