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
  csrfOf,
  type Harness,
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

  const createdWith = (summary: string) =>
    [...h.emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary);

  it('raises one request: the second post is refused 503 with its text kept, and once sent again lands on it', async () => {
    const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
    const action = `/desk/1/create/${typeId}`;
    /** The raise-request form as rendered now: its CSRF token and write key. */
    const freshForm = async () => {
      const form = (await alice.text(action)).body;
      return { _csrf: csrfOf(form), _write: /name="_write" value="(jsmsso[0-9a-f]{24})"/.exec(form)![1]! };
    };
    const post = (fields: Record<string, string>) => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      return alice.fetch(action, { method: 'POST', body, headers: { origin: h.url } });
    };
    // Earlier that day she raised another request (the store's claims have a history), and Redis
    // saved a snapshot: it holds her session, and not the claim the first post makes next.
    const raised = await post({ ...(await freshForm()), f_summary: 'Raised before the snapshot' });
    expect(raised.status).to.equal(303);
    const fields = {
      ...(await freshForm()),
      f_summary: 'Clicked twice while Redis crashed',
      f_description: 'The second click came once Redis was back from its snapshot.',
    };
    const writeKey = fields._write;
    const send = () => post(fields);
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
      expect(createdWith(fields.f_summary), 'requests raised while the first is held').to.have.length(0);
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
    const [request] = createdWith(fields.f_summary);
    expect(createdWith(fields.f_summary), 'requests raised').to.have.length(1);
    expect([firstAnswer.status, firstAnswer.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${request!.key}?created=1`,
    ]);
    const again = await send();
    expect([again.status, again.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${request!.key}?created=1`,
    ]);
    expect(createdWith(fields.f_summary), 'requests raised').to.have.length(1);
  });
});
