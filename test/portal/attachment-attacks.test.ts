// The attachment path attacked in both directions (ADR 0152): what a customer uploads (bytes against
// the name, file names, sizes, multipart abuse, someone else's request or temporary file) and what the
// portal hands out (names and headers of a download, Range, caching, an Atlassian answer that lies
// about its length or never ends). Each attack is sent as a client or a hostile site would send it.
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { CustomerRequest } from '../../dev/jsm-emulator/state.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  refusalCount,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

const BOUNDARY = 'jsmssoattackboundary';

interface Part {
  name: string;
  filename?: string;
  content: Buffer | string;
  /** The file name as an RFC 8187 `filename*` (percent-encoded UTF-8), instead of `filename`. */
  encodedFilename?: string;
  /** Extra part header lines, as sent. */
  headers?: string;
}

/** A multipart body byte for byte as written here (FormData would escape what some attacks need). */
function multipart(parts: Part[]): Uint8Array<ArrayBuffer> {
  const chunks = parts.flatMap((p) => [
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"` +
        `${p.filename === undefined ? '' : `; filename="${p.filename}"`}` +
        `${p.encodedFilename === undefined ? '' : `; filename*=UTF-8''${p.encodedFilename}`}\r\n${p.headers ?? ''}\r\n`,
    ),
    Buffer.from(p.content),
    Buffer.from('\r\n'),
  ]);
  return new Uint8Array(Buffer.concat([...chunks, Buffer.from(`--${BOUNDARY}--\r\n`)]));
}

// The bytes a file of each kind starts with.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n');
const EXE = Buffer.concat([
  Buffer.from('MZ'),
  Buffer.alloc(62, 0x90),
  Buffer.from('This program cannot be run'),
]);
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)]);
// The end record of an empty zip: the bytes of a zip file, and so of an Office document.
const EMPTY_ZIP = Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)]);

describe('portal: attacks on the attachment path (ADR 0152)', () => {
  let h: Harness;
  let alice: Browser;
  let dana: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    dana = await signIn(h, 'dana@globex.test');
  });

  const printer = (): CustomerRequest =>
    [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
  const attachmentPosts = (from: number) =>
    h.exchanges.slice(from).filter((e) => e.method === 'POST' && /attach/i.test(e.path));

  /** Posts one file to the printer request's attachment form, as `browser` (Alice by default). */
  const upload = async (filename: string, content: Buffer | string, browser = alice) => {
    const key = printer().key;
    const page = (await browser.text(`/requests/${key}`)).body;
    const csrf =
      /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? csrfOf((await browser.text('/profile')).body);
    return browser.fetch(`/requests/${key}/attachment`, {
      method: 'POST',
      body: multipart([
        { name: '_csrf', content: csrf },
        { name: 'attachment', filename, content, headers: 'Content-Type: application/octet-stream\r\n' },
      ]),
      headers: { origin: h.url, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
  };
  /** The raise form of "Get IT help" (summary, description, urgency, attachment). */
  const itHelpForm = async () => {
    const desk = (await alice.text('/desk/1')).body;
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
    const path = `/desk/1/create/${typeId}`;
    return { path, csrf: csrfOf((await alice.text(path)).body) };
  };
  const storedWith = (content: Buffer | string) =>
    printer().attachments.find((a) => a.content.equals(Buffer.from(content)));

  describe('upload: the bytes against the name', () => {
    const refusedAsContent = async (filename: string, content: Buffer | string) => {
      const from = h.exchanges.length;
      const logs = h.logs.length;
      const before = await refusalCount(h, 'PORTAL_UPLOAD_CONTENT');
      const res = await upload(filename, content);
      expect(res.status, filename).to.equal(415);
      expect(await res.text(), filename).to.include(
        `role="alert">This file is not what its name says (${filename}): its content is of another type.`,
      );
      expect(reasons(h, logs), filename).to.deep.equal(['PORTAL_UPLOAD_CONTENT']);
      expect(await refusalCount(h, 'PORTAL_UPLOAD_CONTENT'), filename).to.equal(before + 1);
      expect(attachmentPosts(from), `${filename}: nothing sent to Atlassian`).to.deep.equal([]);
    };

    it('refuses a file whose bytes are another known format than its extension names', async () => {
      await refusedAsContent('invoice.pdf', EXE);
      await refusedAsContent('photo.jpg', PNG);
      await refusedAsContent('notes.txt', ELF);
      await refusedAsContent('screenshot.png', PDF);
      await refusedAsContent('report.docx', PDF);
      await refusedAsContent('archive.zip', EXE);
    });

    it('refuses text and images that a browser which sniffs would run as a page or script', async () => {
      await refusedAsContent('screenshot.png', '<!DOCTYPE html><script>alert(document.domain)</script>');
      await refusedAsContent('readme.txt', '\r\n  <html><body onload="alert(1)">');
      await refusedAsContent('data.json', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>');
      await refusedAsContent('trace.log', '<?xml version="1.0"?><svg><script>alert(1)</script></svg>');
      await refusedAsContent('table.csv', '\ufeff<iframe src="https://evil.test">');
      // UTF-16 (either byte order, after its byte order mark): the markup is in the characters.
      await refusedAsContent('notes.txt', Buffer.from('\ufeff<html><script>alert(1)</script>', 'utf16le'));
      await refusedAsContent('notes.log', Buffer.from('\ufeff  <svg onload="alert(1)">', 'utf16le').swap16());
      // Polyglots: an image's signature, then a page (GIFAR-style), within what a browser sniffs.
      await refusedAsContent('cat.gif', 'GIF89a/*<script>alert(1)</script>*/');
      await refusedAsContent(
        'pixel.png',
        Buffer.concat([PNG, Buffer.from('<html><script>alert(1)</script>')]),
      );
    });

    it('accepts files whose bytes are what their names say, markup quoted inside a text included', async () => {
      const files: [string, Buffer | string][] = [
        ['dot.png', PNG],
        ['scan.pdf', PDF],
        ['minutes.docx', EMPTY_ZIP],
        ['printer.log', 'ERROR render failed for <script>alert(1)</script> at line 3\n'],
        ['windows.log', Buffer.from('\ufeffEvent 4624 logged', 'utf16le')],
        ['export.csv', Buffer.from('\ufeffname,note\nprinter,"<b> jams"\n', 'utf16le').swap16()],
      ];
      for (const [filename, content] of files) {
        const res = await upload(filename, content);
        expect(res.status, filename).to.equal(303);
        expect(storedWith(content)?.filename, filename).to.equal(filename);
      }
    });

    it('refuses an empty file instead of leaving it out silently, on a request and on a new one', async () => {
      const from = h.exchanges.length;
      const logs = h.logs.length;
      const res = await upload('empty.txt', '');
      expect(res.status).to.equal(400);
      expect(await res.text()).to.include('role="alert">This file is empty (empty.txt).');
      expect(reasons(h, logs)).to.deep.equal(['PORTAL_UPLOAD_EMPTY']);
      expect(attachmentPosts(from)).to.deep.equal([]);

      // With other fields filled in, the request was raised without the file the customer chose.
      const form = await itHelpForm();
      const requests = h.emulator.state.requests.size;
      const created = await alice.fetch(form.path, {
        method: 'POST',
        body: multipart([
          { name: '_csrf', content: form.csrf },
          { name: 'f_summary', content: 'Printer prints blank pages' },
          { name: 'attachment', filename: 'blank.txt', content: '' },
        ]),
        headers: { origin: h.url, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      });
      expect(created.status).to.equal(400);
      expect(await created.text()).to.include('This file is empty (blank.txt).');
      expect(h.emulator.state.requests.size, 'no request raised').to.equal(requests);
    });
  });

  describe('upload: file names', () => {
    const cases: [sent: string, kept: string][] = [
      // Reads as "photoexe.png"... in a file list: the override is dropped.
      ['invoice\u202Egnp.txt', 'invoicegnp.txt'],
      ['zero\u200bwidth\u2066.txt', 'zerowidth.txt'],
      // macOS spells é as e and a combining accent (NFD); kept as one character (NFC).
      ['re\u0301sume\u0301.txt', 'résumé.txt'],
      ['CON.txt', '_CON.txt'],
      ['lpt1.log', '_lpt1.log'],
      ['report.txt. . ', 'report.txt'],
    ];
    for (const [sent, kept] of cases) {
      it(`passes ${JSON.stringify(sent)} on as ${JSON.stringify(kept)}`, async () => {
        const content = `named ${JSON.stringify(sent)}`;
        const res = await upload(sent, content);
        expect(res.status).to.equal(303);
        expect(storedWith(content)?.filename).to.equal(kept);
      });
    }

    it('drops control characters a name carries percent-encoded, NUL included', async () => {
      const key = printer().key;
      const content = 'a name with NUL, C1 and DEL';
      const res = await alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body: multipart([
          { name: '_csrf', content: csrfOf((await alice.text(`/requests/${key}`)).body) },
          { name: 'attachment', encodedFilename: 'nul%00l%C2%85%7F.txt%00.exe', content },
        ]),
        headers: { origin: h.url, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      });
      // Read as "nul.txt.exe" once the controls are gone: refused by its extension, not by a NUL.
      expect(res.status).to.equal(415);
      expect(await res.text()).to.include('Files of this type cannot be attached (null.txt.exe).');
    });

    it('refuses a raw control character (NUL, BEL, ESC) in a part header as a malformed form', async () => {
      for (const name of ['a\u0000b.txt', 'bell\u0007.txt', 'esc\u001b[31m.txt']) {
        const logs = h.logs.length;
        const res = await upload(name, 'raw control');
        expect(res.status, JSON.stringify(name)).to.equal(400);
        expect(reasons(h, logs)).to.deep.equal(['PORTAL_FORM_INVALID']);
      }
    });

    it('shows a refused name as text on the page, never as markup', async () => {
      const name = '<img src=x onerror=alert(1)>.exe';
      const res = await upload(name, 'MZ');
      expect(res.status).to.equal(415);
      const page = await res.text();
      expect(page)
        .to.include('(&lt;img src&#61;x onerror&#61;alert(1)&gt;.exe)')
        .and.not.include('<img src=x');
    });

    it('keeps the end of a very long name, extension included, and never half a character', async () => {
      const content = 'a name of 300 emoji';
      const res = await upload(`${'😀'.repeat(300)}.txt`, content);
      expect(res.status).to.equal(303);
      const stored = storedWith(content)!.filename;
      expect(Array.from(stored)).to.have.length(180);
      expect(stored).to.equal(`${'😀'.repeat(176)}.txt`);
    });
  });

  describe('upload: multipart abuse', () => {
    const post = (body: Uint8Array<ArrayBuffer>, contentType: string) =>
      alice.fetch(`/requests/${printer().key}/attachment`, {
        method: 'POST',
        body,
        headers: { origin: h.url, 'content-type': contentType },
      });

    it('refuses a body without a boundary, or that is no multipart form', async () => {
      for (const contentType of ['multipart/form-data', 'text/plain', 'multipart/form-data; boundary=']) {
        const logs = h.logs.length;
        const from = h.exchanges.length;
        const res = await post(
          multipart([{ name: 'attachment', filename: 'a.txt', content: 'a' }]),
          contentType,
        );
        expect(res.status, contentType).to.equal(400);
        expect(reasons(h, logs), contentType).to.deep.equal(['PORTAL_FORM_INVALID']);
        expect(attachmentPosts(from)).to.deep.equal([]);
      }
    });

    it('refuses a form of too many parts, and a part header larger than any browser sends', async () => {
      const csrf = csrfOf((await alice.text(`/requests/${printer().key}`)).body);
      const many = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, content: 'x' }));
      const logs = h.logs.length;
      const res = await post(
        multipart([{ name: '_csrf', content: csrf }, ...many]),
        `multipart/form-data; boundary=${BOUNDARY}`,
      );
      expect(res.status).to.equal(413);
      expect(reasons(h, logs)).to.deep.equal(['PORTAL_FORM_TOO_LARGE']);

      const hugeHeader = h.logs.length;
      const res2 = await post(
        multipart([
          {
            name: 'attachment',
            filename: 'a.txt',
            content: 'a',
            headers: `X-Padding: ${'p'.repeat(20_000)}\r\n`,
          },
        ]),
        `multipart/form-data; boundary=${BOUNDARY}`,
      );
      expect(res2.status).to.equal(400);
      expect(reasons(h, hugeHeader)).to.deep.equal(['PORTAL_FORM_INVALID']);
    });

    it('answers an endless body 413 without reading it to its end', async () => {
      const url = new URL(h.url);
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const csrf = csrfOf((await alice.text(`/requests/${printer().key}`)).body);
      const logs = h.logs.length;
      const slice = Buffer.alloc(256 * 1024, 'a');
      // Far more than the most a form within the limits sends (about 26 MB for one 10 MB file).
      const cap = 200 * 1024 * 1024;
      const outcome = await new Promise<{
        status: number;
        bodyEnded: boolean;
      }>((resolve, reject) => {
        let sent = 0;
        let bodyEnded = false;
        const req = httpRequest({
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: `/requests/${printer().key}/attachment`,
          headers: {
            origin: h.url,
            cookie,
            'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
            'transfer-encoding': 'chunked',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, bodyEnded });
          req.destroy();
        });
        req.on('error', reject);
        req.write(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` +
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="endless.txt"\r\n\r\n`,
        );
        const pump = () => {
          while (!req.destroyed && sent < cap) {
            sent += slice.length;
            if (!req.write(slice)) return void req.once('drain', pump);
          }
          if (!req.destroyed) {
            // The file ends after all: a portal that read it through answers now.
            bodyEnded = true;
            req.end(`\r\n--${BOUNDARY}--\r\n`);
          }
        };
        pump();
      });
      expect(outcome.bodyEnded, 'answered before the body ended').to.equal(false);
      expect(outcome.status).to.equal(413);
      expect(reasons(h, logs)).to.include('PORTAL_FORM_TOO_LARGE');
    });
  });

  describe('upload: someone else’s request or temporary file', () => {
    it('refuses an upload to a request the customer cannot see, and sends Atlassian nothing', async () => {
      const temporary = h.emulator.state.temporaryAttachments.size;
      const from = h.exchanges.length;
      const res = await upload('peek.txt', 'into alice’s request', dana);
      expect(res.status).to.equal(404);
      expect(attachmentPosts(from)).to.deep.equal([]);
      expect(h.emulator.state.temporaryAttachments.size).to.equal(temporary);
      expect(storedWith('into alice’s request')).to.equal(undefined);
    });

    it('never attaches a temporary file id a customer names in the form', async () => {
      // A file another customer's upload left at Atlassian, its id guessed or leaked.
      h.emulator.state.temporaryAttachments.set('temp-foreign-1', {
        temporaryAttachmentId: 'temp-foreign-1',
        filename: 'payslip.pdf',
        mimeType: 'application/pdf',
        content: PDF,
        serviceDeskId: '1',
      } as never);
      const form = await itHelpForm();
      const from = h.exchanges.length;
      const created = await alice.fetch(form.path, {
        method: 'POST',
        body: multipart([
          { name: '_csrf', content: form.csrf },
          { name: 'f_summary', content: 'Raised with a foreign temporary file' },
          { name: 'f_attachment', content: 'temp-foreign-1' },
          { name: 'attachment', content: 'temp-foreign-1' },
          { name: 'temporaryAttachmentIds', content: 'temp-foreign-1' },
        ]),
        headers: { origin: h.url, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      });
      expect(created.status).to.equal(303);
      const create = h.exchanges
        .slice(from)
        .find((e) => e.method === 'POST' && e.path === '/rest/servicedeskapi/request')!;
      expect(JSON.stringify(create.requestBody)).to.not.include('temp-foreign-1');
      expect(h.emulator.state.temporaryAttachments.has('temp-foreign-1'), 'still unclaimed').to.equal(true);
    });

    it('attaches a double-posted upload form once (its write key), and the same file in a new form again', async () => {
      const key = printer().key;
      const page = (await alice.text(`/requests/${key}`)).body;
      const writeKey = /action="\/requests\/[^/]+\/attachment"[^>]*>.*?name="_write" value="([^"]+)"/s.exec(
        page,
      )![1]!;
      const content = 'sent twice by a double click';
      const send = () =>
        alice.fetch(`/requests/${key}/attachment`, {
          method: 'POST',
          body: multipart([
            { name: '_csrf', content: csrfOf(page) },
            { name: '_write', content: writeKey },
            { name: 'attachment', filename: 'twice.txt', content },
          ]),
          headers: { origin: h.url, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        });
      const answers = await Promise.all([send(), send()]);
      expect(answers.map((r) => r.status)).to.deep.equal([303, 303]);
      expect((await send()).status).to.equal(303);
      const copies = () => printer().attachments.filter((a) => a.content.toString() === content).length;
      expect(copies(), 'one file for one form').to.equal(1);
      // A new form (a new write key) with the same file: attached again, as JSM does.
      expect((await upload('twice.txt', content)).status).to.equal(303);
      expect(copies()).to.equal(2);
    });
  });

  describe('download and view', () => {
    /** An attachment of the printer request, as an agent could have named it in Jira. */
    const agentFile = (filename: string, content: Buffer | string, mimeType = 'text/plain') => {
      const r = printer();
      const id = String(99_500 + r.attachments.length);
      r.attachments.push({
        id,
        filename,
        mimeType,
        content: Buffer.from(content),
        authorId: r.reporterId,
        created: Date.now(),
      });
      return `/requests/${r.key}/attachment/${id}`;
    };

    it('encodes any name Atlassian gives a file per RFC 6266 and 8187, half characters and quotes included', async () => {
      const path = agentFile(`it's (1)*\ud800 "50%" 請求書.txt`, 'hostile name');
      const res = await alice.fetch(path);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-disposition')).to.equal(
        `attachment; filename="it's (1)*_ 50_ ___.txt"; ` +
          "filename*=UTF-8''it%27s%20%281%29%2A%EF%BF%BD%2050%25%20%E8%AB%8B%E6%B1%82%E6%9B%B8.txt",
      );
      expect(await res.text()).to.equal('hostile name');
    });

    it('drops a right-to-left override and device names from a name an agent gave a file', async () => {
      const res = await alice.fetch(agentFile('invoice\u202Etxt.exe', 'MZ'));
      expect(res.headers.get('content-disposition')).to.equal(
        `attachment; filename="invoicetxt.exe"; filename*=UTF-8''invoicetxt.exe`,
      );
      const device = await alice.fetch(agentFile('aux.log', 'log'));
      expect(device.headers.get('content-disposition')).to.match(/^attachment; filename="_aux\.log"/);
    });

    it('serves an HTML, SVG, XML, PDF or Office file as a download in a sandbox, never as a page', async () => {
      for (const [name, type] of [
        ['page.html', 'text/html'],
        ['image.svg', 'image/svg+xml'],
        ['feed.xml', 'application/xml'],
        ['report.pdf', 'application/pdf'],
        ['memo.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ]) {
        const res = await alice.fetch(
          agentFile(name!, '<svg onload="alert(1)"><script>alert(1)</script>', type),
        );
        expect(res.status, name).to.equal(200);
        expect(res.headers.get('content-type'), name).to.equal('application/octet-stream');
        expect(res.headers.get('content-disposition'), name).to.match(/^attachment; /);
        expect(res.headers.get('x-content-type-options'), name).to.equal('nosniff');
        expect(res.headers.get('content-security-policy'), name).to.equal("default-src 'none'; sandbox");
        expect(res.headers.get('cache-control'), name).to.equal('no-store');
        await res.arrayBuffer();
        // No preview either: a thumbnail is served for a raster image only (ADR 0300).
        const thumbnail = await alice.fetch(`${new URL(res.url).pathname}/thumbnail`);
        expect(thumbnail.status, `${name} thumbnail`).to.equal(404);
        await thumbnail.arrayBuffer();
      }
    });

    it('answers a Range request with the whole file, saying it serves no ranges', async () => {
      const path = agentFile('ranged.txt', '0123456789');
      const res = await alice.fetch(path, { headers: { range: 'bytes=2-4' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('accept-ranges')).to.equal('none');
      expect(res.headers.get('content-range')).to.equal(null);
      expect(await res.text()).to.equal('0123456789');
      const image = agentFile('dot.png', PNG, 'image/png');
      const thumbnail = await alice.fetch(`${image}/thumbnail`, { headers: { range: 'bytes=0-1' } });
      expect(thumbnail.status).to.equal(200);
      expect(thumbnail.headers.get('cache-control')).to.equal('no-store');
      expect(thumbnail.headers.get('accept-ranges')).to.equal('none');
      await thumbnail.arrayBuffer();
    });

    /** Reads a download to its end or its cut, at most `cap` bytes. */
    const drain = async (res: Response, cap: number) => {
      const reader = res.body!.getReader();
      let received = 0;
      try {
        while (received <= cap) {
          const { done, value } = await reader.read();
          if (done) return { received, cut: false };
          received += value.length;
        }
        await reader.cancel();
        return { received, cut: false };
      } catch {
        return { received, cut: true };
      }
    };

    it('cuts a file whose body runs past the size Atlassian listed for it (an endless body)', async () => {
      // Large enough that the first bytes reach the customer before the bound is met.
      const content = Buffer.alloc(1024 * 1024, 'e');
      const path = agentFile('endless.txt', content);
      const id = path.split('/').pop()!;
      const upstream = new Promise<{ sentBytes: number }>((onClose) =>
        h.emulator.faults.set({
          pathPrefix: `/rest/servicedeskapi/request/${printer().key}/attachment/${id}`,
          times: 1,
          endlessBody: { onClose },
        }),
      );
      const logs = h.logs.length;
      const res = await alice.fetch(path);
      expect(res.status).to.equal(200);
      const { received, cut } = await drain(res, 64 * 1024 * 1024);
      expect(received, 'no byte past the listed size').to.be.at.most(content.length);
      expect(cut, 'the download is cut, not ended as if whole').to.equal(true);
      await upstream;
      expect(reasons(h, logs)).to.include('UPSTREAM_RESPONSE_TOO_LARGE');
    });

    it('cuts a thumbnail past 2 MiB (an endless body)', async () => {
      const path = agentFile('endless.png', PNG, 'image/png');
      const id = path.split('/').pop()!;
      const upstream = new Promise<{ sentBytes: number }>((onClose) =>
        h.emulator.faults.set({
          pathPrefix: `/rest/servicedeskapi/request/${printer().key}/attachment/${id}/thumbnail`,
          times: 1,
          endlessBody: { onClose },
        }),
      );
      const logs = h.logs.length;
      const res = await alice.fetch(`${path}/thumbnail`);
      const { received } = await drain(res, 64 * 1024 * 1024);
      expect(received, 'no byte past 2 MiB').to.be.at.most(2 * 1024 * 1024);
      await upstream;
      expect(reasons(h, logs)).to.include('UPSTREAM_RESPONSE_TOO_LARGE');
    });

    it('serves a file Atlassian sent compressed whole, without the compressed length', async () => {
      const content = 'a text file Atlassian chose to gzip, '.repeat(2000);
      const path = agentFile('compressed.txt', content);
      h.emulator.faults.set({
        pathPrefix: `/rest/servicedeskapi/request/${printer().key}/attachment/${path.split('/').pop()}`,
        times: 1,
        gzip: true,
      });
      const res = await alice.fetch(path);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-length'), 'not the compressed length').to.not.equal(
        String(gzipSync(content).length),
      );
      expect(await res.text()).to.equal(content);
    });

    it('refuses before any byte an answer whose Content-Length exceeds the listed size', async () => {
      const path = agentFile('lying.txt', 'twelve bytes');
      const id = path.split('/').pop()!;
      h.emulator.faults.set({
        pathPrefix: `/rest/servicedeskapi/request/${printer().key}/attachment/${id}`,
        times: 1,
        contentLength: 50 * 1024 * 1024,
      });
      const logs = h.logs.length;
      const res = await alice.fetch(path);
      expect(res.status).to.equal(502);
      expect(res.headers.get('content-disposition')).to.equal(null);
      await res.arrayBuffer();
      expect(reasons(h, logs)).to.include('UPSTREAM_RESPONSE_TOO_LARGE');
    });

    it('writes no file name to any log line', () => {
      const logged = JSON.stringify(h.logs);
      for (const name of [
        'invoice',
        'screenshot',
        'payslip',
        'endless.txt',
        'lying.txt',
        'résumé',
        'peek.txt',
      ]) {
        expect(logged, name).to.not.include(name);
      }
    });
  });
});
