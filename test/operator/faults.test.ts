import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { KubeClient, type KubeObject } from '../../common/kube/client.js';
import { Informer } from '../../common/kube/informer.js';
import { createLogger, type Logger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { certificateFingerprint, createSelfSignedCertificate, type KeyPairPem } from '../../common/pki.js';
import { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { WorkQueue } from '../../operator/queue.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';
import { FakeApiServer, type FakeRequest } from '../../testkit/fake-apiserver.js';
import { reconcileErrors, TEST_HASH_KEY } from '../../testkit/operator-controller.js';
import { secretObject, tenantObject } from '../../testkit/tenants.js';

/**
 * Faults a real kube-apiserver does not produce on demand, injected by a small fake API server:
 * the operator's informers and reconcile loop must heal from each without losing an event,
 * without hammering the server, and without one tenant's failure touching another.
 */
const NS = 'faults';
const logger = createLogger({ component: 'operator', level: 'silent' });
const configMaps = collectionPath(KINDS.configMap, NS);
const secrets = collectionPath(KINDS.secret, NS);
const tenants = collectionPath(KINDS.tenant, NS);

function configMap(name: string, value = '1'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { value } };
}

/** Time between consecutive matching requests, in order. */
function gaps(requests: FakeRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i]!.at);
}

describe('informer against a faulty API server', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let client: KubeClient;
  let informer: Informer | undefined;
  let seen: string[];

  beforeEach(async () => {
    fake = await FakeApiServer.start();
    client = new KubeClient(fake.kubeConfig());
    seen = [];
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    client.close();
    await fake.close();
  });

  function start(
    options: { backoffMs?: number; watchTimeoutSeconds?: number; logger?: Logger } = {},
  ): Informer {
    informer = new Informer({
      client,
      path: configMaps,
      logger: options.logger ?? logger,
      onEvent: (type, object) => seen.push(`${type} ${object.metadata.name}`),
      backoff: { initialMs: options.backoffMs ?? 100, maxMs: 5_000 },
      ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
    });
    informer.start();
    return informer;
  }

  const lists = () => fake.requests.filter((r) => r.method === 'GET' && !r.watch && !r.name);
  const watches = () => fake.requests.filter((r) => r.watch);
  /**
   * The first watch open and past its first event: the server's end of it is then the normal end
   * of a watch that ran, not one ended at once with nothing (a failure, ADR 0395).
   */
  async function watchCarriedAnEvent(): Promise<void> {
    await eventually(async () => watches().length === 1, 'the first watch');
    fake.put(configMaps, configMap('live'));
    await eventually(async () => seen.includes('ADDED live'), 'an event on the first watch');
  }
  const names = () =>
    informer!
      .list()
      .map((o) => o.metadata.name)
      .sort();

  it('relists after a watch answered with ERROR 410 Gone, and loses no change made meanwhile', async () => {
    fake.put(configMaps, configMap('a'));
    fake.put(configMaps, configMap('b'));
    await start().whenSynced();
    await watchCarriedAnEvent();
    // Changes the informer never sees as events, then history compacted past its resourceVersion.
    fake.put(configMaps, configMap('c'), true);
    fake.remove(configMaps, 'a', true);
    fake.put(configMaps, configMap('b', '2'), true);
    fake.compactAndCloseWatches();
    await eventually(async () => lists().length === 2, 'a relist');
    await eventually(async () => names().join() === 'b,c,live', 'the cache to heal');
    expect(seen).to.include.members(['ADDED c', 'DELETED a', 'MODIFIED b']);
    expect(informer!.get(NS, 'b')?.['data']).to.deep.equal({ value: '2' });
    // 410 is not a failure: no restart counted.
    expect(informer!.restarts).to.equal(0);
  });

  // client-go's reflector asks each watch for between 5 and 10 minutes at random, so informers
  // started together (every pool replica, every operator restart) do not renew their watches in
  // the same second every 5 minutes.
  it('asks each watch for a timeout between 300 and 600 s at random, not one for every informer', async () => {
    const informers = Array.from({ length: 8 }, () => {
      const one = new Informer({ client, path: configMaps, logger, onEvent: () => undefined });
      one.start();
      return one;
    });
    try {
      await eventually(async () => watches().length === 8, 'a watch of each informer');
      const timeouts = watches().map((r) => Number(r.query.get('timeoutSeconds')));
      for (const t of timeouts) expect(t).to.be.within(300, 599);
      expect(new Set(timeouts).size, `timeouts ${timeouts.join()}`).to.be.above(1);
    } finally {
      await Promise.all(informers.map((one) => one.stop()));
    }
  });

  it('caches objects without their managedFields', async () => {
    const managedFields = [{ manager: 'someone', operation: 'Apply', fieldsV1: { 'f:data': {} } }];
    fake.put(configMaps, { ...configMap('a'), metadata: { name: 'a', namespace: NS, managedFields } });
    await start().whenSynced();
    fake.put(configMaps, { ...configMap('b'), metadata: { name: 'b', namespace: NS, managedFields } });
    await eventually(async () => informer!.get(NS, 'b'), 'the watched object');
    for (const name of ['a', 'b']) {
      expect(informer!.get(NS, name)?.metadata).to.include({ name }).and.not.have.property('managedFields');
    }
  });

  it('does not report the watch echo of a write it already remembered, and reports the next change', async () => {
    await start().whenSynced();
    await eventually(async () => watches().length === 1, 'the first watch');
    // What an apply returned, remembered by the writer before its watch event arrives.
    informer!.remember(await client.apply(`${configMaps}/a`, configMap('a'), { fieldManager: 'op' }));
    // Events arrive in order, so once b's is seen, a's echo has been handled.
    fake.put(configMaps, configMap('b'));
    await eventually(async () => seen.includes('ADDED b'), 'the event of b');
    fake.put(configMaps, configMap('a', '2'));
    await eventually(async () => seen.includes('MODIFIED a'), 'the change of a by someone else');
    expect(seen).to.deep.equal(['ADDED b', 'MODIFIED a']);
    expect(informer!.get(NS, 'a')?.['data']).to.deep.equal({ value: '2' });
  });

  it('does not let a write response handled after a later watch event put back an older state or a deleted object', async () => {
    await start().whenSynced();
    const written = fake.put(configMaps, configMap('a'));
    await eventually(async () => seen.includes('ADDED a'), 'the event of a');
    // The watch delivers a later change, then the deletion, before the write's response is handled.
    fake.put(configMaps, configMap('a', '2'));
    await eventually(async () => seen.includes('MODIFIED a'), 'the change of a');
    informer!.remember(written);
    expect(informer!.get(NS, 'a')?.['data']).to.deep.equal({ value: '2' });
    fake.remove(configMaps, 'a');
    await eventually(async () => seen.includes('DELETED a'), 'the deletion of a');
    informer!.remember(written);
    expect(informer!.get(NS, 'a')).to.equal(undefined);
    // A newer write (the object made again) is remembered.
    informer!.remember(fake.put(configMaps, configMap('a', '3'), true));
    expect(informer!.get(NS, 'a')?.['data']).to.deep.equal({ value: '3' });
  });

  it('relists after a watch answered with HTTP 410 Gone', async () => {
    fake.put(configMaps, configMap('a'));
    await start().whenSynced();
    await watchCarriedAnEvent();
    fake.inject({ match: (r) => r.watch, action: { kind: 'status', code: 410, reason: 'Gone' }, times: 1 });
    fake.put(configMaps, configMap('b'), true);
    fake.compactAndCloseWatches();
    await eventually(async () => names().join() === 'a,b,live', 'the relisted cache');
    expect(lists()).to.have.length(2);
    expect(seen.filter((s) => s === 'ADDED b')).to.have.length(1);
    expect(informer!.restarts).to.equal(0);
  });

  it('waits a backoff before relisting after 410 Gone, longer at each 410 in a row, so informers do not stampede the API server', async () => {
    fake.put(configMaps, configMap('a'));
    // Each relist's own watch expires at once: a list older than the watch cache's history.
    fake.inject({ match: (r) => r.watch, action: { kind: 'status', code: 410, reason: 'Gone' }, times: 3 });
    await start({ backoffMs: 100 }).whenSynced();
    await eventually(async () => watches().length === 4, 'a fourth watch');
    fake.put(configMaps, configMap('b'));
    await eventually(async () => seen.includes('ADDED b'), 'an event on the healthy watch');
    expect(lists()).to.have.length(4);
    // 100, 200, 400 ms (less 20% jitter) between each expired watch and the list after it.
    const expired = watches().slice(0, 3);
    for (const [i, watch] of expired.entries()) {
      const relist = lists()[i + 1]!;
      expect(relist.at - watch.at, `wait before relist ${i + 1}`).to.be.at.least(0.8 * 100 * 2 ** i);
    }
    // Still no failure: an expiry is routine.
    expect(informer!.restarts).to.equal(0);
  });

  it('goes on when a handler throws on an event of a list or a watch, says so, and delivers the event again', async () => {
    fake.put(configMaps, configMap('a'));
    fake.put(configMaps, configMap('b'));
    fake.put(configMaps, configMap('c'));
    const { logger: logged, logs } = capturedLogger({ component: 'operator' });
    // A handler that fails once on b's addition (in the list) and once on a's change (by the watch).
    const failOnce = new Set(['ADDED b', 'MODIFIED a']);
    informer = new Informer({
      client,
      path: configMaps,
      logger: logged,
      backoff: { initialMs: 100, maxMs: 5_000 },
      onEvent: (type, object) => {
        const event = `${type} ${object.metadata.name}`;
        if (failOnce.delete(event)) throw new Error(`injected: ${event}`);
        seen.push(event);
      },
    });
    informer.start();
    await informer.whenSynced();
    await eventually(async () => seen.includes('ADDED b'), 'the addition of b delivered again');
    fake.put(configMaps, configMap('a', '2'));
    fake.put(configMaps, configMap('d'));
    await eventually(async () => seen.includes('MODIFIED a'), 'the change of a delivered again');
    await eventually(async () => seen.includes('ADDED d'), 'the watch going on');
    expect(seen.filter((s) => s !== 'RESYNC a' && s !== 'RESYNC c').sort()).to.deep.equal(
      ['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d', 'MODIFIED a'].sort(),
    );
    const failed = logs.filter((l) => l['reason'] === 'INFORMER_HANDLER_FAILED');
    expect(failed.map((l) => [l['type'], l['name']])).to.deep.equal([
      ['ADDED', 'b'],
      ['MODIFIED', 'a'],
    ]);
    expect(failed[0]).to.include({
      event: 'informer.handler_failed',
      level: 'warn',
      path: configMaps,
      namespace: NS,
    });
  });

  it('restarts a watch whose connection drops mid-stream, backing off exponentially, without losing or repeating events', async () => {
    fake.put(configMaps, configMap('a'));
    fake.inject({ match: (r) => r.watch, action: { kind: 'drop' }, times: 4 });
    await start({ backoffMs: 100 }).whenSynced();
    // Logged while the watches keep dropping: each dropped stream still carries the backlog.
    fake.put(configMaps, configMap('b'), true);
    await eventually(async () => watches().length >= 5, 'a fifth watch');
    fake.put(configMaps, configMap('c'));
    await eventually(async () => seen.includes('ADDED c'), 'an event on the healthy watch');
    expect(informer!.restarts).to.equal(4);
    expect(seen.filter((s) => s === 'ADDED b')).to.have.length(1);
    expect(lists()).to.have.length(1); // a dropped connection resumes from its resourceVersion
    // Backoff: 100, 200, 400, 800 ms (±20% jitter) between the restarts.
    const between = gaps(watches().slice(0, 5));
    for (const [i, gap] of between.entries()) expect(gap, `gap ${i + 1}`).to.be.at.least(0.8 * 100 * 2 ** i);
  });

  it('backs off after watches the server ends at once with no event, as after failed ones, and resumes without a list', async () => {
    fake.put(configMaps, configMap('a'));
    const ended = 5;
    fake.inject({ match: (r) => r.watch, action: { kind: 'end' }, times: ended });
    const { logger: captured, logs } = capturedLogger({ component: 'operator' });
    start({ backoffMs: 100, logger: captured });
    await eventually(async () => watches().length > ended, 'a watch the server keeps open');
    fake.put(configMaps, configMap('b'));
    await eventually(async () => seen.includes('ADDED b'), 'an event on the watch kept open');
    // Each empty watch ended at once is a failed round: logged, counted, and waited out
    // (100, 200, 400, 800, 1600 ms ±20 %), where it was a normal end that reset the backoff and
    // opened the next watch at once: a loop of watches as fast as the server answered them.
    expect(informer!.restarts).to.equal(ended);
    const failed = logs.filter((l) => l['event'] === 'informer.failed');
    expect(failed).to.have.length(ended);
    expect(failed[0]).to.include({ reason: 'INFORMER_LIST_WATCH_FAILED', path: configMaps });
    expect(failed.map((l) => l['retryInMs'] as number)).to.satisfy((waits: number[]) =>
      waits.every((wait, i) => wait >= 0.8 * 100 * 2 ** i),
    );
    const between = gaps(watches().slice(0, ended + 1));
    for (const [i, gap] of between.entries()) expect(gap, `gap ${i + 1}`).to.be.at.least(0.8 * 100 * 2 ** i);
    expect(lists()).to.have.length(1);
    expect(seen).to.deep.equal(['ADDED a', 'ADDED b']);
  });

  it('abandons a silent watch past its timeout and opens a new one after a backoff', async () => {
    fake.put(configMaps, configMap('a'));
    fake.inject({ match: (r) => r.watch, action: { kind: 'silent' }, times: 1 });
    // The server ends healthy watches after 1 s; silence past 1.5 s means the watch is dead.
    await start({ backoffMs: 200, watchTimeoutSeconds: 1 }).whenSynced();
    fake.put(configMaps, configMap('b'));
    await eventually(async () => seen.includes('ADDED b'), 'the event via a new watch');
    expect(fake.closedWatches).to.be.at.least(1);
    expect(informer!.restarts).to.equal(1);
    const [silent, next] = watches();
    // The informer starts its silence clock when it opens the watch, a little before the server
    // records the request, so the gap seen here is the 1.5 s timeout plus a backoff (at least
    // 160 ms) minus that request latency: 1.5 s is the bound that holds on a loaded machine.
    expect(next!.at - silent!.at).to.be.at.least(1500);
  });
});

describe('reconciler against a faulty API server', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let client: KubeClient;
  let controller: Controller | undefined;
  let registry: Registry;
  let pair: KeyPairPem;

  before(async () => {
    pair = await createSelfSignedCertificate({ commonName: 'faults', days: 365 });
  });

  beforeEach(async () => {
    fake = await FakeApiServer.start();
    client = new KubeClient(fake.kubeConfig());
    registry = createMetricsRegistry();
  });

  afterEach(async () => {
    await controller?.stop();
    controller = undefined;
    client.close();
    await fake.close();
  });

  function addTenant(
    name: string,
    withSigningSecrets = true,
    spec: Parameters<typeof tenantObject>[2] = {},
  ): void {
    fake.put(secrets, secretObject(NS, `${name}-oidc`, { clientSecret: 's' }) as KubeObject);
    fake.put(
      secrets,
      secretObject(NS, `${name}-atlassian`, { email: 'e@x.example', apiToken: 't' }) as KubeObject,
    );
    if (withSigningSecrets) {
      for (const part of ['broker', 'portal']) {
        fake.put(secrets, signingSecret(`${name}-${part}-signing`, pair));
      }
    }
    fake.put(tenants, tenantObject(NS, name, spec) as unknown as KubeObject);
  }

  /** A signing Secret of `keys`: a certificate and its own key, as the parts and the operator require (ADR 0354). */
  function signingSecret(name: string, keys: KeyPairPem): KubeObject {
    const tls = { 'tls.crt': keys.certPem, 'tls.key': keys.keyPem };
    return { ...secretObject(NS, name, tls), type: 'kubernetes.io/tls' } as KubeObject;
  }

  /** `realKeyGeneration`: the operator's own generator (common/pki) instead of the fixed pair. */
  async function startController(realKeyGeneration = false): Promise<Controller> {
    controller = new Controller({
      client,
      settings: {
        image: 'jsm-sso:test',
        ingressNamespaceLabels: { a: 'b' },
        metricsNamespaceLabels: { c: 'd' },
      },
      logger,
      registry,
      namespaces: [NS],
      workers: 2,
      instance: 'faults',
      hashKey: TEST_HASH_KEY,
      queue: new WorkQueue({ baseBackoffMs: 50, maxBackoffMs: 2_000 }),
      ...(realKeyGeneration ? {} : { generateKeyPair: async () => pair }),
    });
    await controller.start();
    return controller;
  }

  function configValid(name: string): string | undefined {
    const tenant = fake.object(tenants, name) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return tenant?.status?.conditions?.find((c) => c.type === 'ConfigValid')?.status;
  }

  async function errors(reason: string): Promise<number> {
    const metric = await registry.getSingleMetric('jsm_sso_operator_reconcile_errors_total')?.get();
    return metric?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
  }

  const deployments = collectionPath(KINDS.deployment, NS);
  const applies = (prefix: string) =>
    fake.requests.filter((r) => r.method === 'PATCH' && r.name?.startsWith(prefix) && !r.subresource);

  it('keeps the signing Secret someone else created when its create answers 409 AlreadyExists', async () => {
    addTenant('acme', false);
    const theirs = await createSelfSignedCertificate({ commonName: 'their broker key', days: 1 });
    // Another writer (a second operator, the user) wins the race for both Secrets.
    fake.inject({
      match: (r) => r.method === 'POST' && r.plural === 'secrets',
      action: {
        kind: 'status',
        code: 409,
        reason: 'AlreadyExists',
        before: (body) => fake.put(secrets, signingSecret(body!.metadata.name!, theirs)),
      },
    });
    await startController();
    await eventually(async () => configValid('acme') === 'True', 'ConfigValid=True');
    const data = fake.object(secrets, 'acme-broker-signing')?.['data'] as Record<string, string>;
    expect(Buffer.from(data['tls.crt']!, 'base64').toString()).to.equal(theirs.certPem);
    const status = (fake.object(tenants, 'acme') as { status?: { signingCertificateFingerprint?: string } })
      .status;
    expect(status?.signingCertificateFingerprint).to.equal(certificateFingerprint(theirs.certPem));
    // Exactly one create attempt per Secret, and no write to a Secret afterwards.
    const secretWrites = fake.requests.filter((r) => r.plural === 'secrets' && r.method !== 'GET');
    expect(secretWrites.map((r) => r.method)).to.deep.equal(['POST', 'POST']);
    expect(fake.object(deployments, 'acme-broker')).to.not.equal(undefined);
  });

  it('generates P-256 signing keys for a tenant whose spec.signatureAlgorithm is ecdsa-sha256', async () => {
    addTenant('acme', false, { signatureAlgorithm: 'ecdsa-sha256' });
    await startController(true);
    for (const part of ['broker', 'portal']) {
      await eventually(
        async () => fake.object(secrets, `acme-${part}-signing`) !== undefined,
        `${part} Secret`,
      );
      const data = fake.object(secrets, `acme-${part}-signing`)?.['data'] as Record<string, string>;
      const key = createPrivateKey(Buffer.from(data['tls.key']!, 'base64').toString());
      expect(key.asymmetricKeyDetails?.namedCurve, part).to.equal('prime256v1');
    }
  });

  it('judges an apply answered with 409 Conflict again, and retries it until it lands', async () => {
    addTenant('acme');
    const broker = (r: FakeRequest) => r.name === 'acme-broker' && r.plural === 'deployments';
    fake.inject({
      match: (r) => r.method === 'PATCH' && broker(r),
      action: { kind: 'status', code: 409, reason: 'Conflict' },
      // Three attempts in the first pass (each after the object is read again, ADR 0166), one in the next.
      times: 4,
    });
    await startController();
    await eventually(async () => fake.object(deployments, 'acme-broker'), 'the broker Deployment');
    await eventually(async () => configValid('acme') === 'True', 'ConfigValid=True');
    const calls = fake.requests.filter(broker).map((r) => r.method);
    expect(calls.filter((m) => m === 'PATCH')).to.have.length(5);
    expect(calls.join(' '), 'a read before every attempt after a 409').to.include(
      'PATCH GET PATCH GET PATCH GET PATCH GET PATCH',
    );
    // Counted by the condition's reason (the closed set operator/errors.ts documents), not the HTTP one.
    expect(await errors('ApplyFailed')).to.equal(1);
    expect(await errors('Conflict')).to.equal(0);
    await eventually(async () => controller!.queue.failuresOf(`${NS}/acme`) === 0, 'the backoff to reset');
  });

  interface Condition {
    type: string;
    status: string;
    reason: string;
    message: string;
  }
  function conditionOf(name: string, type: string): Condition | undefined {
    const tenant = fake.object(tenants, name) as { status?: { conditions?: Condition[] } } | undefined;
    return tenant?.status?.conditions?.find((c) => c.type === type);
  }
  const tenantEvents = (name: string) =>
    fake
      .objects(collectionPath(KINDS.event, NS))
      .map(
        (e) => e as KubeObject & { type: string; reason: string; note: string; regarding: { name: string } },
      )
      .filter((e) => e.regarding.name === name);

  it('records Applied=False and Ready=False with reason ApplyFailed while an owned object keeps failing to apply, and clears them once it lands', async () => {
    addTenant('bad');
    addTenant('good');
    fake.inject({
      match: (r) => r.method === 'PATCH' && r.plural === 'services' && r.name === 'bad-broker',
      action: { kind: 'status', code: 422, reason: 'Invalid' },
    });
    await startController();
    await eventually(
      async () => controller!.queue.failuresOf(`${NS}/bad`) >= 4,
      'four failed reconciles of the bad tenant',
    );
    for (const type of ['Applied', 'Ready']) {
      const condition = conditionOf('bad', type);
      expect(condition, type).to.include({ status: 'False', reason: 'ApplyFailed' });
      // The object and the API server's own words, without the request line.
      expect(condition!.message, type).to.include('Service bad-broker');
      expect(condition!.message, type).to.include('422 Invalid: injected 422 Invalid');
      expect(condition!.message, type).to.not.include('PATCH');
    }
    // One Warning however many retries (the fake bumps generation on /status writes, unlike a real
    // API server, so "no status write while failing the same way" is proved in operator.test.ts).
    const warnings = tenantEvents('bad').filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => e.reason)).to.deep.equal(['ApplyFailed']);
    expect(warnings[0]!.note).to.include('Service bad-broker');
    // The other tenant is untouched by it.
    expect(controller!.queue.failuresOf(`${NS}/good`)).to.equal(0);
    await eventually(async () => conditionOf('good', 'Applied')?.status === 'True', 'good Applied=True');
    expect(conditionOf('good', 'Ready')?.reason).to.equal('ComponentsUnavailable');
    expect(tenantEvents('good').filter((e) => e.type === 'Warning')).to.deep.equal([]);
    // The API server accepts the object again: the tenant converges and the condition clears.
    fake.clearFaults();
    await eventually(async () => conditionOf('bad', 'Applied')?.status === 'True', 'bad Applied=True');
    expect(conditionOf('bad', 'Applied')?.reason).to.equal('ObjectsApplied');
    expect(conditionOf('bad', 'Ready')?.reason).to.equal('ComponentsUnavailable');
    expect(fake.object(collectionPath(KINDS.service, NS), 'bad-broker')).to.not.equal(undefined);
    await eventually(async () => controller!.queue.failuresOf(`${NS}/bad`) === 0, 'the backoff to reset');
    expect(tenantEvents('bad').some((e) => e.type === 'Normal' && e.reason === 'ObjectsApplied')).to.equal(
      true,
    );
  });

  it('backs off per tenant on 5xx from apply, counts the errors, and keeps other tenants converging', async () => {
    addTenant('bad');
    addTenant('good');
    fake.inject({
      match: (r) => r.method === 'PATCH' && !r.subresource && (r.name ?? '').startsWith('bad-'),
      action: { kind: 'status', code: 503, reason: 'ServiceUnavailable' },
    });
    await startController();
    await eventually(async () => configValid('good') === 'True', 'the good tenant to converge');
    expect(fake.object(deployments, 'good-broker')).to.not.equal(undefined);
    await eventually(
      async () => (await errors('ApplyFailed')) >= 5,
      'five failed reconciles of the bad tenant counted in reconcile_errors_total',
    );
    expect(applies('bad-')).to.have.length.at.least(5);
    expect(controller!.queue.failuresOf(`${NS}/bad`)).to.be.at.least(4);
    // One attempt per retry, 50, 100, 200, 400 ms apart (at least): exponential, per key.
    for (const [i, gap] of gaps(applies('bad-').slice(0, 5)).entries())
      expect(gap, `gap ${i + 1}`).to.be.at.least(50 * 2 ** i);
    // The good tenant was reconciled once per change, never retried.
    expect(controller!.queue.failuresOf(`${NS}/good`)).to.equal(0);
    // The API server recovers: the bad tenant converges and its backoff is forgotten.
    fake.clearFaults();
    await eventually(async () => configValid('bad') === 'True', 'the bad tenant to converge');
    await eventually(async () => controller!.queue.failuresOf(`${NS}/bad`) === 0, 'the backoff to reset');
    expect(fake.object(deployments, 'bad-broker')).to.not.equal(undefined);
  });

  it("counts a status write answered 500 or 404 while the tenant still exists (no status subresource) as StatusWriteFailed, never the server's reason, judges a 409 again at once, and writes it once accepted", async () => {
    addTenant('acme');
    // The 409 is not counted: the tenant is read again, is the same tenant, and its status is
    // written again at once (ADR 0166), which meets the 500.
    const answers = [
      [500, 'InternalError'],
      [404, 'NotFound'],
    ] as const;
    for (const [code, reason] of [[409, 'Conflict'] as const, ...answers]) {
      fake.inject({
        match: (r) => r.method === 'PATCH' && r.subresource === 'status' && r.name === 'acme',
        action: { kind: 'status', code, reason },
        times: 1,
      });
    }
    await startController();
    await eventually(async () => configValid('acme') === 'True', 'the status written once accepted');
    // Only a 404 of a tenant that is gone (read back) ends a reconcile quietly: this one exists.
    expect(await reconcileErrors(registry)).to.deep.equal({ StatusWriteFailed: answers.length });
    const warnings = tenantEvents('acme').filter((e) => e.reason === 'StatusWriteFailed');
    expect(warnings.map((e) => e.note.match(/injected \d+ \w+/)?.[0])).to.deep.equal(
      answers.map(([code, reason]) => `injected ${code} ${reason}`),
    );
  });
});
