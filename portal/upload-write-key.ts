/**
 * The write key a file sent with a request's upload form carries: of the form's key and of the file,
 * its name and content. The page after an upload whose outcome is unknown keeps the form's key, so that
 * the same file chosen and sent again is looked for and attached once (ADR 0377). Carried as it was, the
 * form's key said that any file sent next with that form was the first one: another file (the first
 * seen attached, the customer adding the next) was taken for it, not attached, and the page said it was
 * (ADR 0383).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function uploadWriteKey(
  formKey: string,
  file: { filename: string; path: string },
): Promise<string> {
  // JSON: no form key and file name run into another pair's.
  const hash = createHash('sha256').update(JSON.stringify([formKey, file.filename]));
  for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
  return `jsmsso${hash.digest('hex').slice(0, 24)}`;
}
