/**
 * The write key a file sent with a request's upload form carries: of the form's key and of the file,
 * its name and content. The page after an upload whose outcome is unknown keeps the form's key, so that
 * the same file chosen and sent again is looked for and attached once (ADR 0377). Carried as it was, the
 * form's key said that any file sent next with that form was the first one: another file (the first
 * seen attached, the customer adding the next) was taken for it, not attached, and the page said it was
 * (ADR 0383).
 */
import { createHash } from 'node:crypto';

/**
 * Of the file's digest, taken as it was spooled (`UploadedFile.sha256`), not of its bytes read again
 * from the disk (ADR 0392).
 */
export function uploadWriteKey(formKey: string, file: { filename: string; sha256: string }): string {
  // JSON: no form key, file name and digest run into another's.
  const hash = createHash('sha256').update(JSON.stringify([formKey, file.filename, file.sha256]));
  return `jsmsso${hash.digest('hex').slice(0, 24)}`;
}
