import { expect } from 'chai';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { within } from '../../testkit/pool.js';
import {
  attach,
  heldForm,
  printerRequestKey,
  type SpoolPool,
  spooledBytes,
  spoolGauges,
  spoolPool,
} from '../../testkit/pool-uploads.js';

const MiB = 2 ** 20;
/** The least --upload-spool-mib takes; each tenant's share is a quarter of it, 125 MiB. */
const POOL_SPOOL_MIB = 500;

/**
 * ADR 0211: in one `jsm-sso portal --pool-dir` process, tenant A's Atlassian site stalls and its
 * customers send large forms slowly. Its uploads pile up to its share of the pool's spool and no
 * further (503 PORTAL_POOL_SHARE_UPLOADS_BUSY, nothing of the refused form read); tenant B, on its own
 * site, uploads all the while. Before, A's forms took the whole spool and B's uploads were refused
 * PORTAL_POOL_UPLOADS_BUSY.
 */
describe("portal pool: a tenant's uploads hold at most its share of the pool's spool", function () {
  // A real process started from source, two emulators; uploads of a few MiB through it.
  this.timeout(120_000);
  let siteA: RunningJsmEmulator;
  let siteB: RunningJsmEmulator;
  let running: SpoolPool;
  /** Lets A's stalled site answer. */
  let unstallA: () => void = () => {};

  before(async () => {
    siteA = await startJsmEmulator({});
    siteB = await startJsmEmulator({});
    const uploads = { perAccount: 100, perIp: 100 };
    // A's team allows what the CRD allows: many forms of 5 files of 100 MiB.
    running = await spoolPool(
      POOL_SPOOL_MIB,
      {
        name: 'share-a',
        siteUrl: siteA.url,
        limits: { maxUploadBytes: 100 * MiB, maxConcurrentUploads: 16, uploads, comments: uploads },
      },
      { name: 'share-b', siteUrl: siteB.url, limits: { uploads } },
    );
  });

  after(async () => {
    unstallA();
    const stopped = await running?.stop();
    await siteA?.close();
    await siteB?.close();
    if (stopped) expect(stopped.code, stopped.stderr).to.equal(0);
  });

  const refusals = (tenant: string) =>
    running.pool.logs.filter((l) => l['tenant'] === tenant && String(l['reason']).endsWith('UPLOADS_BUSY'));

  it("refuses A's forms past its share while its site stalls, and B's uploads pass meanwhile", async () => {
    const { a, b, pool, spoolTmp } = running;
    const management = (await pool.urls)['management']!;
    const keyA = printerRequestKey(siteA);
    const keyB = printerRequestKey(siteB);
    // A's site takes the files sent to it and does not answer until the test says.
    siteA.faults.add({
      pathPrefix: '/rest/servicedeskapi/servicedesk/',
      method: 'POST',
      heldUntil: new Promise<void>((resolve) => {
        unstallA = resolve;
      }),
    });

    // A customer of A sends a 100 MiB form slowly: A's first, taken.
    const slow = await heldForm(a, keyA, 100 * MiB);
    await within(20_000, async () => (spooledBytes(spoolTmp) >= 64 * 1024 ? true : undefined));
    // Another customer's 2 MiB file is read whole and waits on A's stalled site, holding its room.
    const stalled = attach(a, keyA, 2 * MiB);
    await within(20_000, async () => (siteA.faults.hits()[0] === 1 ? true : undefined));
    const reservedByA = (await spoolGauges(management)).reserved;
    expect(reservedByA, "A's forms hold their room").to.be.at.least(100 * MiB);

    // A third customer of A sends a form that would take the rest of the pool.
    const greedy = await heldForm(a, keyA, (POOL_SPOOL_MIB - 104) * MiB);
    let greedyStatus: number | undefined;
    void greedy.answered.then((res) => {
      greedyStatus = res.statusCode;
    });
    // Refused at once; without shares it was taken: its room showed in the gauge, and no answer came.
    const greedyOutcome = await within(
      20_000,
      async () =>
        greedyStatus ?? ((await spoolGauges(management)).reserved > reservedByA ? 'taken' : undefined),
    );

    // B uploads, to its own site, as if A were not there.
    const fromB = await attach(b, keyB, 6 * MiB);
    expect(fromB.status, "B's upload").to.equal(303);
    expect(greedyOutcome, "A's form past its share").to.equal(503);
    expect(
      [...siteB.state.requests.values()].find((r) => r.key === keyB)?.attachments.map((f) => f.filename),
    ).to.include(`file-${6 * MiB}.txt`);
    expect((await greedy.answered).headers['retry-after']).to.equal('5');
    await within(20_000, async () =>
      refusals('share-a').some((l) => l['reason'] === 'PORTAL_POOL_SHARE_UPLOADS_BUSY') ? true : undefined,
    );
    expect(refusals('share-b'), 'B is never refused').to.deep.equal([]);

    // A's site answers and its slow customer goes away: A's share is given back, whole.
    unstallA();
    await stalled;
    slow.abort();
    await within(20_000, async () => ((await spoolGauges(management)).reserved === 0 ? true : undefined));
    // All of its share at once: refused if any of its earlier forms were still counted.
    const again = await heldForm(a, keyA, (POOL_SPOOL_MIB / 4) * MiB);
    await within(20_000, async () => ((await spoolGauges(management)).reserved > 0 ? true : undefined));
    again.abort();
    await within(20_000, async () => (spooledBytes(spoolTmp) === 0 ? true : undefined));
  });
});
