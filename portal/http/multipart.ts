import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { JsmSsoError } from '../../common/errors.js';
import { replaceControlCharacters } from '../text.js';
import type { SpoolSlot } from './upload-spool.js';

/** A file spooled to disk (see upload-spool.ts). */
export interface UploadedFile {
  filename: string;
  mimeType: string;
  path: string;
  size: number;
}

/** Form fields besides files: the raise-request form has a few dozen at most. */
const MAX_FIELDS = 200;
const MAX_FIELD_BYTES = 64 * 1024;

export interface MultipartLimits {
  maxFileBytes: number;
  maxFiles: number;
}

/** File types a customer may upload, by extension, with the type sent to Atlassian. */
export const UPLOAD_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function uploadType(filename: string): string | undefined {
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(filename)?.[1]?.toLowerCase();
  return ext ? UPLOAD_TYPES[ext] : undefined;
}

/** A file name safe to pass on: no path, no control characters, bounded. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return replaceControlCharacters(base, '').replace(/"/g, '').slice(-180) || 'file';
}

export interface MultipartForm {
  fields: Record<string, string | string[]>;
  files: UploadedFile[];
  /**
   * Set when a file was too large, one too many, or of a type not on the list
   * (PORTAL_UPLOAD_TOO_LARGE / _TOO_MANY / _TYPE). The fields are still all read, so the form can be
   * shown again with everything the customer typed; `files` is then empty.
   */
  refused?: JsmSsoError;
}

/**
 * Reads a multipart/form-data body into fields and files. Files go to the upload spool slot, never
 * to memory (the write stream's backpressure paces the upload); the caller releases the slot. A
 * refused file does not end the reading (see `refused`). A body that is not valid multipart
 * (PORTAL_FORM_INVALID, 400) or has too many or too large fields (PORTAL_FORM_TOO_LARGE, 413) does,
 * and so does a client that goes away before the body ends (PORTAL_CLIENT_ABORTED).
 */
export function readMultipart(
  req: Request,
  limits: MultipartLimits,
  slot: SpoolSlot,
): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Browsers send file names as raw UTF-8; busboy would read them as latin1 (mojibake).
        defParamCharset: 'utf8',
        limits: {
          fileSize: limits.maxFileBytes,
          files: limits.maxFiles,
          fields: MAX_FIELDS,
          fieldSize: MAX_FIELD_BYTES,
          parts: MAX_FIELDS + limits.maxFiles,
        },
      });
    } catch (cause) {
      reject(new JsmSsoError('PORTAL_FORM_INVALID', 'the form could not be read', { cause }));
      return;
    }
    const fields: Record<string, string | string[]> = {};
    const files: UploadedFile[] = [];
    const written: Promise<void>[] = [];
    let failure: JsmSsoError | undefined;
    let formTooLarge = false;
    const fail = (err: JsmSsoError) => {
      failure ??= err;
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) formTooLarge = true;
      const prev = fields[name];
      fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    });
    parser.on('file', (_name, stream, info) => {
      const filename = cleanFilename(info.filename ?? '');
      if (!info.filename) {
        stream.resume();
        return;
      }
      const type = uploadType(filename);
      if (!type) {
        fail(
          new JsmSsoError('PORTAL_UPLOAD_TYPE', 'a file type not on the allow-list', {
            status: 415,
            params: { filename },
          }),
        );
        stream.resume();
        return;
      }
      const path = slot.nextPath();
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
      });
      stream.on('limit', () =>
        fail(
          new JsmSsoError('PORTAL_UPLOAD_TOO_LARGE', `a file over ${limits.maxFileBytes} bytes`, {
            status: 413,
            params: { maxBytes: limits.maxFileBytes },
          }),
        ),
      );
      written.push(
        pipeline(stream, createWriteStream(path, { mode: 0o600 })).then(() => {
          if (size > 0) files.push({ filename, mimeType: type, path, size });
        }),
      );
    });
    parser.on('filesLimit', () =>
      fail(
        new JsmSsoError('PORTAL_UPLOAD_TOO_MANY', `more than ${limits.maxFiles} files`, {
          status: 413,
          params: { max: limits.maxFiles },
        }),
      ),
    );
    parser.on('fieldsLimit', () => {
      formTooLarge = true;
    });
    parser.on('partsLimit', () => {
      formTooLarge = true;
    });
    parser.on('error', (cause) =>
      reject(
        cause instanceof JsmSsoError
          ? cause
          : new JsmSsoError('PORTAL_FORM_INVALID', 'the form could not be read', { cause }),
      ),
    );
    // A client gone mid-body ends nothing by itself: the piped parser would wait for the rest
    // forever, and the file being spooled would stay open (its folder removed under it). Destroying
    // the parser destroys the file stream, whose write stream then closes.
    req.once('close', () => {
      if (!req.complete)
        parser.destroy(
          new JsmSsoError('PORTAL_CLIENT_ABORTED', 'the client went away during the upload', { status: 400 }),
        );
    });
    parser.on('close', () => {
      Promise.all(written).then(
        () => {
          if (formTooLarge)
            reject(
              new JsmSsoError('PORTAL_FORM_TOO_LARGE', 'the form has too many or too large fields', {
                status: 413,
              }),
            );
          else resolve(failure ? { fields, files: [], refused: failure } : { fields, files });
        },
        (cause: unknown) =>
          reject(new JsmSsoError('PORTAL_FORM_INVALID', 'the form could not be read', { cause })),
      );
    });
    req.pipe(parser);
  });
}
