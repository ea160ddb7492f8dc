// A form's upload slot is the request's: given back when its answer is done, not when its spool folder
// is removed, which follows the answer and waits for the file threads of a loaded machine. The folders
// still being removed have a bound of their own, so the disk the spool may fill keeps one (ADR 0250).
// The load is exact, not timed: every thread of libuv's pool held (testkit/held-threadpool.ts).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { UploadSpool } from '../../portal/http/upload-spool.js';
import { eventually } from '../../testkit/envtest.js';
import { type HeldThreadpool, holdThreadpool } from '../../testkit/held-threadpool.js';
import { type Browser, csrfOf, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('faults: an upload slot after its answer, while its folder is still being removed (ADR 0250)', function () {
  this.timeout(60_000);
  let held: HeldThreadpool | undefined;
  afterEach(async () => {
    await held?.release();
    held = undefined;
  });

  describe('a portal with one upload slot', () => {
    let h: Harness;
    let alice: Browser;
    before(async () => {
      h = await startHarness({
        store: new MemoryFlowStore(),
        portal: { limits: { maxConcurrentUploads: 1 } },
      });
      alice = await signIn(h, 'alice@acme.test');
    });
    after(() => h.close());

    const upload = async (key: string, name: string) => {
      const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
      const form = new FormData();
      form.set('_csrf', csrf);
      form.set('attachment', new Blob([`${name}\n`], { type: 'text/plain' }), name);
      return alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body: form,
        headers: { origin: h.url },
      });
    };

    it("takes the customer's next form while the last one's folder is still being removed", async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      // The file threads are held once Atlassian has the file (the portal read it from the spool),
      // so the folder's removal after the answer waits.
      h.emulator.faults.set({
        pathPrefix: `/rest/servicedeskapi/request/${key}/attachment`,
        method: 'POST',
        times: 1,
        onArrival: async () => {
          held = holdThreadpool();
        },
      });
      const first = await upload(key, 'first.txt');
      await first.arrayBuffer();
      expect(first.status).to.equal(303);
      const spool = h.app.uploads.folder;
      expect(readdirSync(spool), "the first form's folder, its removal waiting").to.deep.equal(['0']);

      let answered = false;
      const second = upload(key, 'second.txt').finally(() => {
        answered = true;
      });
      // Either it was refused, or it took a slot (its folder made) and now waits to write its file.
      await eventually(
        async () => answered || existsSync(join(spool, '1')),
        'the second form taken or refused',
      );
      await held!.release();
      const res = await second;
      const page = await res.text();
      expect(res.status, page.slice(0, 300)).to.equal(303);
      const printer = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
      expect(printer.attachments.map((a) => a.filename)).to.include.members(['first.txt', 'second.txt']);
      await eventually(
        async () => h.app.uploads.stats.active === 0 && readdirSync(spool).length === 0,
        'the slots given back and the folders removed',
      );
    });
  });

  describe('the spool', () => {
    it('bounds the folders being removed apart from the slots: the disk holds at most twice the slots', async () => {
      const { spool } = await UploadSpool.create(1);
      const slot = () => {
        const taken = spool.tryAcquire();
        return 'refused' in taken ? taken.refused : taken;
      };
      try {
        const a = slot();
        if (typeof a === 'string') throw new Error(`no first slot: ${a}`);
        held = holdThreadpool();
        const removingA = a.release();
        const b = slot();
        if (typeof b === 'string') throw new Error(`no slot while the last folder is being removed: ${b}`);
        expect(spool.stats).to.include({ active: 1, removing: 1 });
        // One in flight: the slot's own bound.
        expect(slot()).to.equal('PORTAL_UPLOADS_BUSY');
        const removingB = b.release();
        // None in flight, two folders on the disk: the removals' bound.
        expect(slot()).to.equal('PORTAL_UPLOAD_REMOVALS_BEHIND');
        expect(readdirSync(spool.folder)).to.have.members(['0', '1']);
        await held.release();
        await Promise.all([removingA, removingB]);
        expect(readdirSync(spool.folder)).to.deep.equal([]);
        expect(spool.stats).to.include({ active: 0, removing: 0 });
        const c = slot();
        if (typeof c === 'string') throw new Error(`no slot once the folders are gone: ${c}`);
        await c.release();
      } finally {
        // Before the spool's own removal, which would wait on the held threads.
        await held?.release();
        await spool.close();
      }
    });
  });
});
