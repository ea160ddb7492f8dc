import { randomUUID } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';
import { expect } from 'chai';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { within } from '../../testkit/pool.js';
import { type Browser, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolBundles,
  type RecordedPart,
  type RunningPortalPool,
  recordingBuild,
  startPortalPool,
} from '../../testkit/portal-pool-tenants.js';

/** How long a retired part is kept once its requests have ended (the pool's grace, shortened). */
const RETIRE_MS = 100;
/** Larger than what the sockets between the customer and Atlassian buffer while the customer waits. */
const FILE_BYTES = 32 * 1024 * 1024;

/**
 * ADR 0211: a pool rebuilds a tenant's part for every change of its bundle (a rotated secret too) and
 * closes the old one. Two tenants of one pool each have a customer in the middle of a download, taken
 * at the customer's pace (ADR 0201), when A's bundle changes. Before, A's old part was closed a fixed
 * grace after the change, its Atlassian connections with it, and A's customer got a cut file. Now it is
 * closed once its last request has ended, and a grace after; B is untouched either way.
 */
describe("portal pool: a tenant's changed bundle cuts none of its requests in flight", function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger } = capturedLogger({ component: 'portal' });
  const store = createPoolFlowStore(undefined);
  let pool: RunningPortalPool;
  /** Each part built, in order, with whether its close has begun. */
  const parts: RecordedPart[] = [];

  before(async () => {
    pool = await startPortalPool(
      2,
      run,
      { store, registry: createMetricsRegistry(), logger, retireAfterMs: RETIRE_MS },
      (build) => recordingBuild(build, parts),
    );
  });

  after(async () => {
    await pool?.close();
    await store.close();
  });

  /** A download the customer starts and then stops taking until `resume()`; `ended` says how it ended. */
  async function pausedDownload(browser: Browser, path: string) {
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const req = request(new URL(path, browser.base), { headers: { cookie } });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.end();
    });
    // Paused before a byte is taken: a 'data' listener does not start a stream paused this way.
    res.pause();
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    const ended = new Promise<{ status: number; bytes: number; whole: boolean }>((resolve) => {
      const done = () => resolve({ status: res.statusCode ?? 0, bytes, whole: res.complete });
      res.once('end', done);
      res.once('close', done);
      res.once('error', done);
    });
    return { resume: () => res.resume(), ended };
  }

  it("finishes A's and B's downloads across A's change, then closes A's old part", async () => {
    const { emulator, source } = pool;
    const [a, b] = pool.tenants as [PortalTenant, PortalTenant];
    const printer = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const file = printer.attachments.find((f) => f.filename === 'fuser-order.txt')!;
    file.content = Buffer.alloc(FILE_BYTES, 'x');
    const path = `/requests/${printer.key}/attachment/${file.id}`;
    const downloads = [];
    for (const tenant of [a, b]) {
      const browser = await signInAt(tenant.url, tenant.brokerKey, 'alice@acme.test');
      downloads.push(await pausedDownload(browser, path));
    }
    const aOld = parts.find((p) => p.tenant === a.name)!;

    // A's bundle changes (its secrets rotated, say): new requests go to a new part.
    source.upsert(portalPoolBundles([a])[0]!);
    // Past the grace as the old code counted it, from the change: this timer is set after that one, and
    // Node runs timers of one process in the order they fall due, so the old code's close has run.
    await new Promise((resolve) => setTimeout(resolve, 2 * RETIRE_MS));
    expect(aOld.closing, "A's old part while its download is in flight").to.equal(false);

    for (const download of downloads) download.resume();
    const [fromA, fromB] = await Promise.all(downloads.map((d) => d.ended));
    expect(fromB, "B's download").to.deep.equal({ status: 200, bytes: FILE_BYTES, whole: true });
    expect(fromA, "A's download, begun before the change").to.deep.equal({
      status: 200,
      bytes: FILE_BYTES,
      whole: true,
    });

    // Once its download has ended, A's old part is closed (after the grace); B's part is not.
    await within(20_000, async () => (aOld.closing ? true : undefined));
    expect(parts.filter((p) => p.closing).map((p) => p.tenant)).to.deep.equal([a.name]);
    const again = await signInAt(a.url, a.brokerKey, 'alice@acme.test');
    expect((await again.fetch(`/requests/${printer.key}`)).status).to.equal(200);
  });
});
