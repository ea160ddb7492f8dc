// A customer's browser goes away in the middle of sending a file (tab closed, network lost): the
// portal has spooled part of it. Nothing of it may stay behind: not the file, not its upload slot,
// not the open file it was being written to, and the request reading it must end.
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { expect } from 'chai';
import type { JsmSsoError } from '../../common/errors.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { readMultipart } from '../../portal/http/multipart.js';
import { UploadSpool } from '../../portal/http/upload-spool.js';
import { eventually } from '../../testkit/envtest.js';
import { type HeldThreadpool, holdThreadpool } from '../../testkit/held-threadpool.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  openSpoolFiles as openSpoolFilesOf,
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
  const openSpoolFiles = () => openSpoolFilesOf(h);

  const BOUNDARY = 'jsmssoboundary';
  /** The attachment form's start: its CSRF token, then the head of a file part named big.txt. */
  const formHead = (csrf: string) =>
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="big.txt"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    );
  /** A socket that has sent Alice's attachment form's request head, declaring `contentLength`. */
  const startUpload = async (key: string, contentLength: number) => {
    const url = new URL(h.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    socket.write(
      `POST /requests/${key}/attachment HTTP/1.1\r\nHost: ${url.host}\r\nOrigin: ${h.url}\r\n` +
        `Cookie: ${cookie}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n` +
        `Content-Length: ${contentLength}\r\n\r\n`,
    );
    return socket;
  };

  it('leaves no file, no open file and no slot behind, and logs PORTAL_CLIENT_ABORTED, not an error', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    const head = formHead(csrf);
    // Promises a megabyte, sends 64 KB of it.
    const socket = await startUpload(key, head.length + 1024 * 1024);
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

  it('keeps the slot and the file while the file is being sent to Atlassian after the client went away (ADR 0250)', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    const file = Buffer.alloc(9 * 1024 * 1024, 65);
    const body = Buffer.concat([formHead(csrf), file, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
    let arrived = false;
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/servicedesk/',
      method: 'POST',
      times: 1,
      onArrival: async () => {
        arrived = true;
        await held;
      },
    });
    try {
      const socket = await startUpload(key, body.length);
      socket.write(body);
      await eventually(async () => arrived, 'the file on its way to Atlassian');
      const from = h.logs.length;
      socket.destroy();
      // The portal notes the answer abandoned when it sees the client go; before, it gave the slot
      // back then and removed the file it was still reading.
      await eventually(
        async () => reasons(h, from).includes('PORTAL_CLIENT_ABORTED') || h.app.uploads.stats.active === 0,
        'the client seen gone',
      );
      expect(h.app.uploads.stats.active, 'the slot of a form still being sent on').to.equal(1);
      expect(spooledBytes(), 'its file, still being read').to.equal(file.length);
      const next = await alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body: (() => {
          const form = new FormData();
          form.set('_csrf', csrf);
          form.set('attachment', new Blob(['small\n'], { type: 'text/plain' }), 'small.txt');
          return form;
        })(),
        headers: { origin: h.url },
      });
      await next.arrayBuffer();
      expect(next.status, 'a form past the one slot, whose form is still being sent on').to.equal(503);
    } finally {
      letGo();
    }
    await eventually(
      async () => h.app.uploads.stats.active === 0 && spooledBytes() === 0 && openSpoolFiles().length === 0,
      'the slot free, the spool empty and no spool file open once Atlassian has the file',
    );
    const printer = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    expect(printer.attachments.map((a) => a.filename)).to.include('big.txt');
  });

  it('gives the slot back when the client went away before its form was read (the route waiting on Atlassian)', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    const body = Buffer.concat([formHead(csrf), Buffer.from(`small\r\n--${BOUNDARY}--\r\n`)]);
    let arrived = false;
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    // The route asks whether Alice may see the request before it reads her form.
    h.emulator.faults.set({
      pathPrefix: `/rest/servicedeskapi/request/${key}`,
      method: 'GET',
      times: 1,
      onArrival: async () => {
        arrived = true;
        await held;
      },
    });
    const from = h.logs.length;
    try {
      const socket = await startUpload(key, body.length);
      socket.write(body);
      await eventually(async () => arrived, 'the route asking Atlassian');
      // Gone before the portal read a byte of the form: the portal closes the connection.
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.end();
      await closed;
    } finally {
      letGo();
    }
    await eventually(
      async () => reasons(h, from).includes('PORTAL_CLIENT_ABORTED') || h.app.uploads.stats.active === 1,
      'the form taken up or the client seen gone',
    );
    await eventually(
      async () => h.app.uploads.stats.active === 0 && spooledBytes() === 0 && openSpoolFiles().length === 0,
      'the slot free, the spool empty and no spool file open',
      5_000,
    );
    expect(reasons(h, from)).to.include('PORTAL_CLIENT_ABORTED');
  });
});

describe('faults: the client goes away once its whole form is in, before the portal has read it (ADR 0250)', () => {
  let held: HeldThreadpool | undefined;
  afterEach(async () => {
    await held?.release();
    held = undefined;
  });

  it('ends the reading as a client abort, though every byte of the body had arrived', async () => {
    const { spool } = await UploadSpool.create(1);
    const outcomes: string[] = [];
    // Its requests keep what arrives unread up to 4 MiB: the whole body, then the client's end, are
    // read from the connection while the form's reading waits.
    const server = createServer({ highWaterMark: 4 * 1024 * 1024 }, (req, res) => {
      const slot = spool.tryAcquire();
      if ('refused' in slot) throw new Error(slot.refused);
      readMultipart(req as never, { maxFileBytes: 10 * 1024 * 1024, maxFiles: 1 }, slot).then(
        () => outcomes.push('read'),
        (err: JsmSsoError) => outcomes.push(err.code),
      );
      res.once('close', () => void slot.release());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      // The file's writing waits, so the form's reading stops at its first chunks.
      held = holdThreadpool();
      const body = Buffer.concat([
        Buffer.from(
          '--b\r\nContent-Disposition: form-data; name="attachment"; filename="big.txt"\r\n' +
            'Content-Type: text/plain\r\n\r\n',
        ),
        Buffer.alloc(1024 * 1024, 65),
        Buffer.from('\r\n--b--\r\n'),
      ]);
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
      // A half-close, which Node's server answers by closing the connection, the request unread.
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.end();
      await closed;
      await eventually(async () => outcomes.length > 0, 'the reading ended', 5_000);
      expect(outcomes).to.deep.equal(['PORTAL_CLIENT_ABORTED']);
    } finally {
      await held?.release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await spool.close();
    }
  });
});
