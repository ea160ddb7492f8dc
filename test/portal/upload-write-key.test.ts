// A file's write key is of its form's key, its name and its content (ADR 0383), the content's digest taken
// as the file was spooled: the key reads nothing from the disk again (ADR 0392 part 2).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Request } from 'express';
import { type MultipartForm, readMultipart } from '../../portal/http/multipart.js';
import { uploadWriteKey } from '../../portal/upload-write-key.js';

/** `form` posted to a server that reads it into a spool folder of its own, as the portal does. */
async function spooled(form: FormData, folder: string): Promise<MultipartForm> {
  let files = 0;
  const slot = { nextPath: () => join(folder, String(files++)), release: async () => {} };
  let read: Promise<MultipartForm> | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    read = readMultipart(req as Request, { maxFileBytes: 1024 * 1024, maxFiles: 1 }, slot);
    read.then(
      () => res.end(),
      () => res.end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: form })).arrayBuffer();
    return await read!;
  } finally {
    server.close();
  }
}

describe('portal: a file’s write key', () => {
  it('is taken from the digest made while the file was spooled, reading nothing from the disk', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'upload-write-key-'));
    try {
      const content = 'minutes of the meeting\n'.repeat(10_000);
      const form = new FormData();
      form.set('attachment', new Blob([content], { type: 'text/plain' }), 'minutes.txt');
      const [file] = (await spooled(form, folder)).files;
      const digest = createHash('sha256').update(content).digest('hex');
      expect(file?.sha256).to.equal(digest);
      // The spooled file gone: the key is the same.
      await rm(file!.path);
      const key = uploadWriteKey('jsmsso0123456789abcdef0123', file!);
      expect(key).to.match(/^jsmsso[0-9a-f]{24}$/);
      expect(key).to.equal(
        uploadWriteKey('jsmsso0123456789abcdef0123', { filename: 'minutes.txt', sha256: digest }),
      );
      expect(key, 'another content').to.not.equal(
        uploadWriteKey('jsmsso0123456789abcdef0123', { filename: 'minutes.txt', sha256: '0'.repeat(64) }),
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
