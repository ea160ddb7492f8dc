// A double click on Send while Redis loses the first post's write claim (portal/write-claims.ts):
// Redis crashes and comes back from a snapshot taken before the claim, as a Redis with RDB
// persistence does between two save points (a failover that loses the last writes is alike). The
// customer's session is back, the claim is not, and the first post is still being written at
// Atlassian: the second post finds neither the claim nor the request. It must not write as well.
// Until the claims Redis may have lost would have expired, no form is written; an upload says so on
// the request's page, as any failed upload does (ADR 0385).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { crashAndRestart, type LocalRedis, startSnapshottedRedis } from '../../testkit/local-redis.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  holdNextWrite,
  raiseRequestForm,
  reasons,
  signIn,
  startHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';
import { answering, connectedFlowStore, passOnClaimsWitness } from '../../testkit/redis.js';

describe('faults: a form sent while Redis may have lost write claims (restarted from a snapshot)', function () {
  this.timeout(60_000);
  let dir: string;
  let redis: LocalRedis;
  let store: RedisFlowStore;
  let h: Harness;
  let alice: Browser;

  // Each test its own Redis: one restarted from a snapshot vouches for no claim for minutes.
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-claims-'));
    redis = await startSnapshottedRedis(dir);
    store = await connectedFlowStore('claims-lost', redis.url);
    h = await startHarness({ store });
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(async () => {
    await h?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises one request: the second post is refused 503 with its text kept, and once sent again lands on it', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    // Earlier that day she raised another request (the store's claims have a history), and Redis
    // saved a snapshot: it holds her session, and not the claim the first post makes next.
    const raised = await form.post({ ...(await form.fresh()), f_summary: 'Raised before the snapshot' });
    expect(raised.status).to.equal(303);
    const { fields, chosen } = await form.filled({
      f_summary: 'Clicked twice while Redis crashed',
      f_description: 'The second click came once Redis was back from its snapshot.',
    });
    const writeKey = fields._write;
    const send = () => form.post(fields);
    expect(
      spawnSync('redis-cli', ['-p', String(redis.port), 'SAVE'], { encoding: 'utf8' }).stdout.trim(),
    ).to.equal('OK');
    const release = holdNextWrite(h, '/rest/servicedeskapi/request');
    const first = send();
    try {
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first create held at Atlassian');
      redis = await crashAndRestart(redis, dir);
      await answering(store);
      const from = h.logs.length;
      const second = await send();
      const page = await second.text();
      expect(form.created(fields.f_summary), 'requests raised while the first is held').to.have.length(0);
      expect(second.status).to.equal(503);
      expect(Number(second.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(chosen, 'the choices made beyond the text').to.not.be.empty;
      for (const answer of [fields.f_summary, fields.f_description, ...chosen])
        expect(page, 'an answer kept').to.include(answer);
      expect(page).to.include(`name="_write" value="${writeKey}"`);
      expect(page).to.contain('<code data-reason>FLOW_STORE_CLAIMS_UNCERTAIN</code>');
      expect(reasons(h, from)).to.include('FLOW_STORE_CLAIMS_UNCERTAIN');
    } finally {
      release();
    }
    const firstAnswer = await first;
    const [request] = form.created(fields.f_summary);
    expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
    expect([firstAnswer.status, firstAnswer.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${request!.key}?created=1`,
    ]);
    const again = await send();
    expect([again.status, again.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${request!.key}?created=1`,
    ]);
    expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
  });
  // The page of a form refused while the store cannot vouch for claims promised "(it will not be sent
  // twice)". Its earlier click's write may still be under way at Atlassian when the window is over: the
  // form sent then finds no claim (the store lost it), looks at the request's comments, finds nothing yet,
  // and writes; the earlier one, committed later still, makes two (ADR 0435 part 2, ADR 0442).
  it('says what sending a comment again after the window does, when Atlassian commits the earlier click’s later still', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const action = `/requests/${key}/comment`;
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    const send = (page: string, body: string) =>
      alice.post(action, { _csrf: csrfOf(page), _write: writeKeyOf(page, action)!, body });
    // A comment added before the snapshot: the store's claims have a history.
    expect((await send((await alice.text(`/requests/${key}`)).body, 'Before the snapshot.')).status).to.equal(
      303,
    );
    expect(
      spawnSync('redis-cli', ['-p', String(redis.port), 'SAVE'], { encoding: 'utf8' }).stdout.trim(),
    ).to.equal('OK');
    const page = (await alice.text(`/requests/${key}`)).body;
    const writeKey = writeKeyOf(page, action)!;
    const written = () =>
      request.comments.filter((c) => c.body.includes(`(portal reference ${writeKey})`)).length;
    const release = holdNextWrite(h, `/rest/servicedeskapi/request/${key}/comment`);
    const first = send(page, 'Clicked twice while Redis crashed.');
    let admin: Redis | undefined;
    try {
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first comment held at Atlassian');
      redis = await crashAndRestart(redis, dir);
      await answering(store);
      admin = new Redis(redis.url);
      const second = await send(page, 'Clicked twice while Redis crashed.');
      const secondPage = await second.text();
      expect(second.status).to.equal(503);
      expect(secondPage).to.contain('<code data-reason>FLOW_STORE_CLAIMS_UNCERTAIN</code>');
      expect(secondPage).to.not.contain('twice)');
      expect(secondPage).to.contain(
        '(it is sent only if the earlier one is not there by then; if that one still arrives later, both show)',
      );
      // The window over, the earlier click's comment still held at Atlassian.
      await passOnClaimsWitness(admin, (Number(second.headers.get('retry-after')) + 1) * 1000);
      const again = await send(secondPage, 'Clicked twice while Redis crashed.');
      expect(again.status, 'the form sent again after the window').to.equal(303);
    } finally {
      release();
      admin?.disconnect();
    }
    expect((await first).status, 'the earlier click, its comment made').to.equal(303);
    expect(written(), 'comments once the earlier click’s commits').to.equal(2);
  });

  // The upload form, sent while Redis cannot vouch for the claims made before it came back: nothing is
  // attached, and the page is the request's, as after any failed upload, its form keeping the key.
  it('attaches nothing and shows the request’s page, the upload form keeping its key, when the store cannot vouch for claims', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const action = `/requests/${key}/attachment`;
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    const upload = (page: string, filename: string) => {
      const form = new FormData();
      form.set('_csrf', csrfOf(page));
      form.set('_write', writeKeyOf(page, action)!);
      form.set('attachment', new Blob(['minutes of the meeting\n'], { type: 'text/plain' }), filename);
      return alice.fetch(action, { method: 'POST', body: form, headers: { origin: h.url } });
    };
    // A file attached before the snapshot: the store's claims have a history.
    const before = await upload((await alice.text(`/requests/${key}`)).body, 'agenda.txt');
    expect(before.status).to.equal(303);
    expect(
      spawnSync('redis-cli', ['-p', String(redis.port), 'SAVE'], { encoding: 'utf8' }).stdout.trim(),
    ).to.equal('OK');
    redis = await crashAndRestart(redis, dir);
    await answering(store);
    const page = (await alice.text(`/requests/${key}`)).body;
    const from = h.logs.length;
    const refused = await upload(page, 'minutes.txt');
    const refusedPage = await refused.text();
    expect(
      request.attachments.filter((a) => a.filename === 'minutes.txt'),
      'attached',
    ).to.have.length(0);
    expect(refused.status).to.equal(503);
    expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(refusedPage).to.include('Nothing was sent: the help center restarted part of its storage');
    expect(refusedPage).to.include(`<h1>${request.fieldValues['summary']}</h1>`);
    expect(writeKeyOf(refusedPage, action), 'the upload form’s key').to.equal(writeKeyOf(page, action));
    expect(refusedPage).to.contain('<code data-reason>FLOW_STORE_CLAIMS_UNCERTAIN</code>');
    expect(reasons(h, from)).to.include('FLOW_STORE_CLAIMS_UNCERTAIN');
  });
});
