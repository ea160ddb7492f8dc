import { expect } from 'chai';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { within } from '../../testkit/pool.js';
import {
  attach as attachTo,
  spoolGauges as gaugesAt,
  heldForm as heldFormOn,
  printerRequestKey,
  type SpoolPool,
  spooledBytes as spooledUnder,
  spoolPool,
} from '../../testkit/pool-uploads.js';
import type { Browser } from '../../testkit/portal-harness.js';

const MiB = 2 ** 20;
/** The least --upload-spool-mib takes: one form of 5 files at the largest maxUploadBytes. */
const POOL_SPOOL_MIB = 500;

/**
 * ADR 0165: one `jsm-sso portal --pool-dir` process serving two tenants shares one upload spool
 * budget. Tenant A holds a form whose declared size leaves 5 MiB of it (its first: a tenant holding
 * nothing may take any form the pool has room for, ADR 0211); then a 6 MiB upload is refused for B
 * (503, Retry-After, PORTAL_POOL_UPLOADS_BUSY, nothing of it spooled) and for A, over its share
 * (PORTAL_POOL_SHARE_UPLOADS_BUSY), while 1 MiB uploads still pass one after another, each giving its
 * room back; once A's form ends, the 6 MiB uploads pass.
 */
describe('portal pool: one upload spool budget for every tenant of the process (--upload-spool-mib)', function () {
  // A real process started from source; uploads of a few MiB through it to the emulator.
  this.timeout(120_000);
  let emulator: RunningJsmEmulator;
  let running: SpoolPool;
  const spooledBytes = () => spooledUnder(running.spoolTmp);
  const spoolGauges = async () => gaugesAt((await running.pool.urls)['management']!);
  const attach = (browser: Browser, bytes: number) => attachTo(browser, printerRequestKey(emulator), bytes);
  const heldForm = (browser: Browser, declared: number) =>
    heldFormOn(browser, printerRequestKey(emulator), declared);

  before(async () => {
    emulator = await startJsmEmulator({});
    // Enough uploads a minute for the test; A may spool a form of 5 files of 100 MiB, B has the defaults.
    const uploads = { perAccount: 100, perIp: 100 };
    running = await spoolPool(
      POOL_SPOOL_MIB,
      {
        name: 'spool-a',
        siteUrl: emulator.url,
        limits: { maxUploadBytes: 100 * MiB, maxConcurrentUploads: 2, uploads, comments: uploads },
      },
      { name: 'spool-b', siteUrl: emulator.url, limits: { uploads } },
    );
  });

  after(async () => {
    const stopped = await running?.stop();
    await emulator?.close();
    if (stopped) expect(stopped.code, stopped.stderr).to.equal(0);
  });

  const busyReasons = (tenant: string) =>
    running.pool.logs.filter((l) => l['tenant'] === tenant && String(l['reason']).endsWith('UPLOADS_BUSY'));

  it("refuses every tenant's upload that does not fit beside another tenant's, spools none of it, and takes them once the room is given back", async () => {
    const { a, b } = running;
    // A's held form: all but 5 MiB of the pool's spool, far past A's share (a quarter), and taken: A
    // held nothing, and a form its limits allow must fit some time.
    const held = await heldForm(a, (POOL_SPOOL_MIB - 5) * MiB);
    // Its first bytes reach the disk: the room was reserved before they were read.
    await within(20_000, async () => (spooledBytes() >= 64 * 1024 ? true : undefined));
    const spooledWhileHeld = spooledBytes();
    // What the operator sees: the budget and the room A's form holds.
    expect(await spoolGauges()).to.deep.equal({
      capacity: POOL_SPOOL_MIB * MiB,
      reserved: (POOL_SPOOL_MIB - 5) * MiB,
    });

    // B finds no room in the pool; A is over its own share before that.
    for (const [browser, tenant, reason] of [
      [a, 'spool-a', 'PORTAL_POOL_SHARE_UPLOADS_BUSY'],
      [b, 'spool-b', 'PORTAL_POOL_UPLOADS_BUSY'],
    ] as const) {
      const refused = await attach(browser, 6 * MiB);
      expect(refused.status, tenant).to.equal(503);
      expect(refused.retryAfter).to.equal('5');
      expect(refused.body).to.include('Many files are being uploaded');
      await within(20_000, async () =>
        busyReasons(tenant).some((l) => l['reason'] === reason) ? true : undefined,
      );
    }
    expect(spooledBytes(), 'nothing of the refused uploads spooled').to.equal(spooledWhileHeld);

    // Room is per byte and given back when each response ends: six 1 MiB uploads one after another
    // pass through the 5 MiB left.
    for (let i = 0; i < 6; i++) expect((await attach(b, MiB)).status, `B's 1 MiB upload ${i}`).to.equal(303);

    // Each tenant's own limit comes first: with B's four slots taken (four 1 MiB forms held), B is
    // told of its own limit, not of the pool's.
    const bForms = [];
    for (let i = 0; i < 4; i++) bForms.push(await heldForm(b, MiB));
    await within(20_000, async () => (spooledBytes() >= spooledWhileHeld + 4 * 64 * 1024 ? true : undefined));
    expect((await attach(b, 6 * MiB)).status).to.equal(503);
    await within(20_000, async () =>
      busyReasons('spool-b').some((l) => l['reason'] === 'PORTAL_UPLOADS_BUSY') ? true : undefined,
    );
    for (const form of bForms) form.abort();

    // A's form goes away: its room and its files are given back, and the 6 MiB uploads pass.
    held.abort();
    await within(20_000, async () => (spooledBytes() === 0 ? true : undefined));
    expect((await attach(b, 6 * MiB)).status).to.equal(303);
    expect((await attach(a, 6 * MiB)).status).to.equal(303);
    // Nothing left behind: each slot's folder goes as its response ends, just after the client has it.
    await within(20_000, async () => (spooledBytes() === 0 ? true : undefined));
    expect((await spoolGauges()).reserved).to.equal(0);
  });
});
