// A double click on Send while Redis loses the first post's write claim (portal/write-claims.ts):
// Redis crashes and comes back from a snapshot taken before the claim, as a Redis with RDB
// persistence does between two save points (a failover that loses the last writes is alike). The
// customer's session is back, the claim is not, and the first post is still being written at
// Atlassian: the second post finds neither the claim nor the request. It must not write as well.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { crashAndRestart, type LocalRedis, startSnapshottedRedis } from '../../testkit/local-redis.js';
import {
  type Browser,
  type Harness,
  raiseRequestForm,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';
import { answering, connectedFlowStore } from '../../testkit/redis.js';

describe('faults: a double click while Redis loses the first post’s write claim', function () {
  this.timeout(60_000);
  let dir: string;
  let redis: LocalRedis;
  let store: RedisFlowStore;
  let h: Harness;
  let alice: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-claims-'));
    redis = await startSnapshottedRedis(dir);
    store = await connectedFlowStore('claims-lost', redis.url);
    h = await startHarness({ store });
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
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
    const fields = {
      ...(await form.fresh()),
      f_summary: 'Clicked twice while Redis crashed',
      f_description: 'The second click came once Redis was back from its snapshot.',
    };
    const writeKey = fields._write;
    const send = () => form.post(fields);
    expect(
      spawnSync('redis-cli', ['-p', String(redis.port), 'SAVE'], { encoding: 'utf8' }).stdout.trim(),
    ).to.equal('OK');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.emulator.faults.set({
      heldUntil: held,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
    });
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
      expect(page).to.include('Clicked twice while Redis crashed');
      expect(page).to.include('The second click came once Redis was back from its snapshot.');
      expect(page).to.include(`name="_write" value="${writeKey}"`);
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
});
