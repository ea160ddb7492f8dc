import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { KubeObject } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { EventRecorder } from '../../operator/events.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import { tenantObject } from '../../testkit/tenants.js';

interface EventLike extends KubeObject {
  reason: string;
  note: string;
  series?: { count: number; lastObservedTime: string };
  regarding: { uid: string };
}

/** Events aggregate on a real API server: a repeat is a series on the first Event, not a new one. */
describe('operator Events', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;
  let tenant: JsmSsoTenant;
  let clock: number;
  const logger = createLogger({ component: 'operator', level: 'silent' });

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'events');
    tenant = await env.client.create<JsmSsoTenant>(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'acme'),
    );
  });

  beforeEach(() => {
    clock = Date.now();
  });

  const recorder = () =>
    new EventRecorder({
      client: env.client,
      instance: 'test',
      logger,
      seriesFlushMs: 10_000,
      now: () => clock,
    });
  const eventsOf = async (reason: string) =>
    (await env.client.list<EventLike>(collectionPath(KINDS.event, namespace))).items.filter(
      (e) => e.reason === reason && e.regarding.uid === tenant.metadata!.uid,
    );

  it('turns a repeated reason on the same tenant into one Event whose series counts the repeats', async () => {
    const events = recorder();
    for (let i = 0; i < 5; i++) {
      await events.record(tenant, 'Normal', 'Applied', 'applied Deployment/acme-broker');
      clock += 1_000;
    }
    // The first repeat is written at once, the later ones when the series is flushed.
    const [before] = await eventsOf('Applied');
    expect(before?.series?.count).to.equal(2);
    await events.flush();
    const all = await eventsOf('Applied');
    expect(all).to.have.length(1);
    expect(all[0]!.series?.count).to.equal(5);
  });

  it('writes a series at most once per flush interval however many repeats arrive', async () => {
    const events = recorder();
    let writes = 0;
    const previous = env.client.onWrite;
    env.client.onWrite = () => writes++;
    try {
      for (let i = 0; i < 50; i++)
        await events.record(tenant, 'Warning', 'ApplyFailed', 'Service acme-broker refused');
      expect(writes, 'one create and one series write').to.equal(2);
      clock += 10_000;
      await events.record(tenant, 'Warning', 'ApplyFailed', 'Service acme-broker refused');
      expect(writes).to.equal(3);
    } finally {
      env.client.onWrite = previous;
    }
    const [event] = await eventsOf('ApplyFailed');
    expect(event?.series?.count).to.equal(51);
  });

  it('starts a new Event for another reason, another note, or a repeat after six quiet minutes', async () => {
    const events = recorder();
    await events.record(tenant, 'Warning', 'ObjectConflict', 'Service acme-portal (someone else)');
    await events.record(tenant, 'Warning', 'ObjectConflict', 'ConfigMap acme-config (someone else)');
    clock += 6 * 60_000;
    await events.record(tenant, 'Warning', 'ObjectConflict', 'Service acme-portal (someone else)');
    const all = await eventsOf('ObjectConflict');
    expect(all).to.have.length(3);
    expect(all.every((e) => e.series === undefined)).to.equal(true);
  });

  it('records a note past 1 KiB of UTF-8 cut to the API server’s 1024 bytes at a character boundary', async () => {
    const events = recorder();
    // A policy's refusal in a platform team's own language (3 bytes a character), and one with
    // characters outside the BMP (4 bytes, two UTF-16 code units): both under 1024 code units or
    // cut there mid-pair, both over 1024 bytes, which the API server refuses (422).
    const notes = {
      PolicyJapanese: 'デプロイメントにはコストセンターのラベルが必要です。'.repeat(20),
      PolicyEmoji: `a${'🚫'.repeat(600)}`,
    };
    for (const [reason, note] of Object.entries(notes)) {
      await events.record(tenant, 'Warning', reason, note);
      const [event] = await eventsOf(reason);
      expect(event, reason).to.not.equal(undefined);
      expect(Buffer.byteLength(event!.note), reason).to.be.within(1021, 1024);
      expect(note.startsWith(event!.note), `${reason}: a prefix of the note, no character split`).to.equal(
        true,
      );
      expect(event!.note, reason).to.not.include('\uFFFD');
    }
  });

  it('starts a new Event when the series Event is gone (expired or deleted)', async () => {
    const events = recorder();
    await events.record(tenant, 'Normal', 'Valid', 'ConfigValid: ok');
    const [first] = await eventsOf('Valid');
    await env.client.delete(objectPath(KINDS.event, namespace, first!.metadata.name!));
    await events.record(tenant, 'Normal', 'Valid', 'ConfigValid: ok');
    await events.record(tenant, 'Normal', 'Valid', 'ConfigValid: ok');
    const all = await eventsOf('Valid');
    expect(all).to.have.length(1);
    expect(all[0]!.metadata.name).to.not.equal(first!.metadata.name);
  });
});
