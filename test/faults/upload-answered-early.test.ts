// Atlassian answers a file's upload (attachTemporaryFile) before it has read the file: a 503 at
// once, as a site shedding load does. The portal's HTTP client must not go on sending the file, its
// descriptor open, after the answer; the slot and the folder are gone by then, so an open file
// would hold its bytes on the disk counted by nothing (ADR 0262).
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  openSpoolFiles,
  signIn,
  spooledBytes,
  startHarness,
} from '../../testkit/portal-harness.js';

describe('faults: Atlassian answers a file upload before reading the file (ADR 0262)', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness({ store: new MemoryFlowStore() });
    alice = await signIn(h, 'alice@acme.test');
  });
  after(() => h.close());

  it('closes the file once Atlassian has answered, not when the connection closes', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/servicedesk/',
      method: 'POST',
      status: 503,
      times: 1,
    });
    try {
      const form = new FormData();
      form.set('_csrf', csrf);
      // Larger than the socket's buffers (a file of a few hundred bytes goes out whole at once).
      form.set('attachment', new Blob([Buffer.alloc(300 * 1024, 65)], { type: 'text/plain' }), 'big.txt');
      const res = await alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body: form,
        headers: { origin: h.url },
      });
      await res.arrayBuffer();
      expect(res.status, 'attached at the second attempt').to.equal(303);
      expect(h.emulator.faults.hits(), 'the attempt answered 503').to.deep.equal([1]);
    } finally {
      h.emulator.faults.clear();
    }
    expect(h.app.uploads.stats.active, 'the slot').to.equal(0);
    // The descriptor is closed as the client drops the rest of the form, a few turns of the event
    // loop after the answer; before, it stayed open while the connection did (past 40 s here).
    await eventually(
      async () => openSpoolFiles(h).length === 0 && spooledBytes(h) === 0,
      'no spool file open, the spool empty',
      2000,
    );
  });
});
