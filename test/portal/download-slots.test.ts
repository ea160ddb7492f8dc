// A download streams at the customer's pace and holds its Atlassian connection while it does: one
// account may have DOWNLOADS_PER_ACCOUNT of them at once, a tenant DOWNLOADS_PER_TENANT in one
// process (ADR 0221). Past them a download waits (429 / 503 with Retry-After), nothing is asked of
// Atlassian, and a slot comes back as soon as a download ends, however it ends.
import { expect } from 'chai';
import { DOWNLOADS_PER_ACCOUNT, DownloadSlots } from '../../portal/download-slots.js';
import { eventually } from '../../testkit/envtest.js';
import { type Browser, type Harness, reasons, signIn, useHarness } from '../../testkit/portal-harness.js';

const FILE_BYTES = 4 * 1024 * 1024;

describe("portal downloads: each account's and each tenant's at once are bounded (ADR 0221)", () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  let key: string;
  let id: string;
  useHarness(async (harness) => {
    h = harness;
    alice = await signIn(h, 'alice@acme.test');
    bob = await signIn(h, 'bob@acme.test');
    const printer = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const file = printer.attachments.find((a) => a.filename === 'fuser-order.txt')!;
    file.content = Buffer.alloc(FILE_BYTES, 'x');
    // Bob, of alice's organization, on the request as well: he may open its files too.
    const bobAccount = [...h.emulator.state.users.values()].find((u) => u.email === 'bob@acme.test')!;
    printer.participantIds.push(bobAccount.accountId);
    key = printer.key;
    id = file.id;
  });

  it("refuses an account's download past its bound (429, Retry-After) without asking Atlassian for the file, another account's not; an ended one frees its slot", async () => {
    // The emulator sends each answer slowly (64 KiB every 200 ms: 13 s for the file), so the
    // downloads below are all streaming at once.
    h.emulator.faults.set({
      pathPrefix: `/rest/servicedeskapi/request/${key}/attachment/${id}`,
      times: DOWNLOADS_PER_ACCOUNT + 2,
      trickle: { sliceBytes: 64 * 1024, intervalMs: 200 },
    });
    const path = `/requests/${key}/attachment/${id}`;
    const streaming: AbortController[] = [];
    // Held to the end: undici cancels the body of a Response it finds garbage-collected, and a
    // download so ended frees its slot early (seen as a 200 where the bound answers 429, under load).
    const held: Response[] = [];
    try {
      for (let n = 0; n < DOWNLOADS_PER_ACCOUNT; n++) {
        const stop = new AbortController();
        streaming.push(stop);
        const download = await alice.fetch(path, { signal: stop.signal });
        held.push(download);
        expect(download.status).to.equal(200);
      }
      const from = h.logs.length;
      const refused = await alice.fetch(path);
      expect(refused.status).to.equal(429);
      expect(refused.headers.get('retry-after')).to.equal('5');
      expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_DOWNLOADS_BUSY');
      expect(h.emulator.faults.hits()[0], 'calls for the file at Atlassian').to.equal(DOWNLOADS_PER_ACCOUNT);
      // Another customer of the tenant is not held by alice's downloads.
      const other = new AbortController();
      streaming.push(other);
      const bobs = await bob.fetch(path, { signal: other.signal });
      held.push(bobs);
      expect(bobs.status).to.equal(200);
      // One of alice's hangs up: its slot comes back.
      streaming.shift()!.abort();
      await eventually(async () => {
        const again = await alice.fetch(path);
        if (again.status !== 200) return undefined;
        await again.body?.cancel();
        return true;
      }, "a slot of alice's back");
    } finally {
      for (const stop of streaming) stop.abort();
      await Promise.all(held.map((download) => download.body?.cancel().catch(() => undefined)));
      h.emulator.faults.clear();
    }
  });
});

describe('download slots (portal/download-slots.ts)', () => {
  it("bounds a tenant's downloads at once over all its accounts, and gives each slot back once", () => {
    const slots = new DownloadSlots(2, 3);
    const releases = [slots.take('a'), slots.take('a'), slots.take('b')];
    expect(() => slots.take('a'))
      .to.throw()
      .with.property('code', 'PORTAL_ACCOUNT_DOWNLOADS_BUSY');
    const busy = (() => {
      try {
        slots.take('c');
      } catch (err) {
        return err as { code: string; status: number };
      }
      return undefined;
    })();
    expect(busy).to.include({ code: 'PORTAL_DOWNLOADS_BUSY', status: 503 });
    releases[0]!();
    releases[0]!();
    expect(slots.streaming, 'a release given twice counts once').to.equal(2);
    releases.push(slots.take('c'));
    expect(() => slots.take('d'))
      .to.throw()
      .with.property('code', 'PORTAL_DOWNLOADS_BUSY');
    for (const release of releases) release();
    expect(slots.streaming).to.equal(0);
  });
});
