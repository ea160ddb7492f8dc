import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { startPoolProcess, within } from '../../testkit/pool.js';
import { writePortalBundle } from '../../testkit/pool-bundle.js';
import { type Browser, bytesUnder, csrfOf, signInAt } from '../../testkit/portal-harness.js';

const MiB = 2 ** 20;
/** The least --upload-spool-mib takes: one form of 5 files at the largest maxUploadBytes. */
const POOL_SPOOL_MIB = 500;

/**
 * ADR 0165: one `jsm-sso portal --pool-dir` process serving two tenants shares one upload spool
 * budget. Tenant A holds a form whose declared size leaves 5 MiB of it; then a 6 MiB upload is
 * refused for A and for B alike (503, Retry-After, PORTAL_POOL_UPLOADS_BUSY, nothing of it spooled),
 * while 1 MiB uploads still pass one after another, each giving its room back; once A's form ends,
 * the 6 MiB uploads pass.
 */
describe('portal pool: one upload spool budget for every tenant of the process (--upload-spool-mib)', function () {
  // A real process started from source; uploads of a few MiB through it to the emulator.
  this.timeout(120_000);
  let emulator: RunningJsmEmulator;
  let poolDir: string;
  let spoolTmp: string;
  let pool: ReturnType<typeof startPoolProcess>;
  let a: Browser;
  let b: Browser;
  const key = () =>
    [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!.key;

  before(async () => {
    emulator = await startJsmEmulator({});
    poolDir = mkdtempSync(join(tmpdir(), 'jsm-sso-portal-pool-'));
    spoolTmp = mkdtempSync(join(tmpdir(), 'jsm-sso-portal-pool-tmp-'));
    const port = await freePort();
    // Enough uploads a minute for the test; A may spool a form of 5 files of 100 MiB, B has the defaults.
    const uploads = { perAccount: 100, perIp: 100 };
    const keys = {
      a: writePortalBundle(poolDir, 'a', {
        name: 'spool-a',
        portalUrl: `http://127.0.0.1:${port}`,
        siteUrl: emulator.url,
        limits: { maxUploadBytes: 100 * MiB, maxConcurrentUploads: 2, uploads, comments: uploads },
      }),
      b: writePortalBundle(poolDir, 'b', {
        name: 'spool-b',
        portalUrl: `http://localhost:${port}`,
        siteUrl: emulator.url,
        limits: { uploads },
      }),
    };
    pool = startPoolProcess(
      'portal',
      ['--pool-dir', poolDir, '--upload-spool-mib', String(POOL_SPOOL_MIB)],
      port,
      // The spool's folders, where the test can see what was written.
      { TMPDIR: spoolTmp },
    );
    await pool.urls;
    a = await signInAt(`http://127.0.0.1:${port}`, keys.a, 'alice@acme.test');
    b = await signInAt(`http://localhost:${port}`, keys.b, 'alice@acme.test');
  });

  after(async () => {
    pool?.child.kill('SIGTERM');
    const { code, stderr } = await pool.done;
    await emulator?.close();
    rmSync(poolDir, { recursive: true, force: true });
    rmSync(spoolTmp, { recursive: true, force: true });
    expect(code, stderr).to.equal(0);
  });

  /** Bytes in the portal's upload spools now (each tenant's folder under the process's TMPDIR). */
  function spooledBytes(): number {
    let total = 0;
    for (const entry of readdirSync(spoolTmp))
      if (entry.startsWith('jsm-sso-portal-uploads-')) total += bytesUnder(join(spoolTmp, entry));
    return total;
  }

  /** The pool's spool gauges on the management port. */
  async function spoolGauges(): Promise<{ capacity: number; reserved: number }> {
    const metrics = await (await fetch(`${(await pool.urls)['management']}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    return {
      capacity: gauge('jsm_sso_portal_pool_upload_spool_capacity_bytes'),
      reserved: gauge('jsm_sso_portal_pool_upload_spool_reserved_bytes'),
    };
  }

  async function csrf(browser: Browser): Promise<string> {
    return csrfOf((await browser.text(`/requests/${key()}`)).body);
  }

  /** Attaches a file of `bytes` to the request, as the browser's form does. */
  async function attach(browser: Browser, bytes: number) {
    const body = new FormData();
    body.append('_csrf', await csrf(browser));
    body.append('attachment', new Blob([new Uint8Array(bytes).fill(65)]), `file-${bytes}.txt`);
    const res = await browser.fetch(`/requests/${key()}/attachment`, {
      method: 'POST',
      body,
      headers: { origin: browser.base },
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  }

  /**
   * A comment with files whose body declares `declared` bytes but stops after its first 64 KiB: it
   * holds its slot and its room in the pool's spool until `abort()`.
   */
  async function heldForm(
    browser: Browser,
    declared: number,
  ): Promise<{ req: ClientRequest; abort(): void }> {
    const boundary = 'held-form-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${await csrf(browser)}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    );
    const req = request(new URL(`/requests/${key()}/comment`, browser.base), {
      method: 'POST',
      headers: {
        cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        origin: browser.base,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(declared),
      },
    });
    req.on('error', () => {}); // aborted by the test
    req.write(Buffer.concat([head, Buffer.alloc(64 * 1024, 66)]));
    return { req, abort: () => req.destroy() };
  }

  const busyReasons = (tenant: string) =>
    pool.logs.filter((l) => l['tenant'] === tenant && String(l['reason']).endsWith('UPLOADS_BUSY'));

  it("refuses every tenant's upload that does not fit beside another tenant's, spools none of it, and takes them once the room is given back", async () => {
    // A's held form: all but 5 MiB of the pool's spool.
    const held = await heldForm(a, (POOL_SPOOL_MIB - 5) * MiB);
    // Its first bytes reach the disk: the room was reserved before they were read.
    await within(20_000, async () => (spooledBytes() >= 64 * 1024 ? true : undefined));
    const spooledWhileHeld = spooledBytes();
    // What the operator sees: the budget and the room A's form holds.
    expect(await spoolGauges()).to.deep.equal({
      capacity: POOL_SPOOL_MIB * MiB,
      reserved: (POOL_SPOOL_MIB - 5) * MiB,
    });

    for (const [browser, tenant] of [
      [a, 'spool-a'],
      [b, 'spool-b'],
    ] as const) {
      const refused = await attach(browser, 6 * MiB);
      expect(refused.status, tenant).to.equal(503);
      expect(refused.retryAfter).to.equal('5');
      expect(refused.body).to.include('Many files are being uploaded');
      await within(20_000, async () =>
        busyReasons(tenant).some((l) => l['reason'] === 'PORTAL_POOL_UPLOADS_BUSY') ? true : undefined,
      );
    }
    expect(spooledBytes(), 'nothing of the refused uploads spooled').to.equal(spooledWhileHeld);

    // Room is per byte and given back when each response ends: six 1 MiB uploads one after another
    // pass through the 5 MiB left.
    for (let i = 0; i < 6; i++) expect((await attach(b, MiB)).status, `B's 1 MiB upload ${i}`).to.equal(303);

    // Each tenant's own limit comes first: with both of A's slots taken (its held form and a second
    // one), A is told of its own limit, not of the pool's.
    const second = await heldForm(a, MiB);
    await within(20_000, async () => (spooledBytes() >= spooledWhileHeld + 64 * 1024 ? true : undefined));
    expect((await attach(a, 6 * MiB)).status).to.equal(503);
    await within(20_000, async () =>
      busyReasons('spool-a').some((l) => l['reason'] === 'PORTAL_UPLOADS_BUSY') ? true : undefined,
    );
    second.abort();

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
