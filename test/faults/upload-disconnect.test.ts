// A customer's browser goes away in the middle of sending a file (tab closed, network lost): the
// portal has spooled part of it. Nothing of it may stay behind: not the file, not its upload slot,
// not the open file it was being written to, and the request reading it must end.
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  spooledBytes as spooledOf,
  startHarness,
} from '../../testkit/portal-harness.js';

describe('faults: the client disconnects in the middle of an upload', function () {
  this.timeout(60_000);
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness({ store: new MemoryFlowStore(), portal: { limits: { maxConcurrentUploads: 1 } } });
    alice = await signIn(h, 'alice@acme.test');
  });
  after(() => h.close());

  const spooledBytes = () => spooledOf(h);
  /** Files of the spool this process still holds open (deleted or not). */
  const openSpoolFiles = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(h.app.uploads.folder);
      } catch {
        return false;
      }
    });

  it('leaves no file, no open file and no slot behind, and logs PORTAL_CLIENT_ABORTED, not an error', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    const boundary = 'jsmssoboundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="big.txt"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    );
    const url = new URL(h.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    // Promises a megabyte, sends 64 KB of it.
    socket.write(
      `POST /requests/${key}/attachment HTTP/1.1\r\nHost: ${url.host}\r\nOrigin: ${h.url}\r\n` +
        `Cookie: ${cookie}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${head.length + 1024 * 1024}\r\n\r\n`,
    );
    socket.write(head);
    socket.write(Buffer.alloc(64 * 1024, 65));
    const from = h.logs.length;
    await eventually(async () => spooledBytes() > 0, 'part of the file spooled');
    expect(h.app.uploads.stats.active).to.equal(1);

    socket.destroy();
    await eventually(
      async () => h.app.uploads.stats.active === 0 && spooledBytes() === 0 && openSpoolFiles().length === 0,
      'the slot free, the spool empty and no spool file open',
    );
    await eventually(async () => reasons(h, from).includes('PORTAL_CLIENT_ABORTED'), 'the abort logged');
    expect(reasons(h, from)).to.not.include('PORTAL_INTERNAL');
  });
});
