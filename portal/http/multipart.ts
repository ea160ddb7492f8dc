import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import type { PortalErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';
import { contentCoded, declaredPast } from '../../common/http/request-body.js';
import { safeFileName } from '../file-names.js';
import { MAX_TYPED_TEXT, MAX_TYPED_TEXT_BYTES } from '../typed-text.js';
import { contentProblem, uploadType } from '../upload-types.js';
import type { SpoolSlot } from './upload-spool.js';

/** A file spooled to disk (see upload-spool.ts). */
export interface UploadedFile {
  filename: string;
  mimeType: string;
  path: string;
  size: number;
  /** SHA-256 of its content, hex, taken as it was spooled: a write key of the file reads it again no more. */
  sha256: string;
}

/** Form fields besides files: the raise-request form has a few dozen at most. */
const MAX_FIELDS = 200;
/**
 * The longest text a text area's `maxlength` lets through, in bytes, and one more: busboy takes a field
 * that reaches its limit as cut short.
 */
const MAX_FIELD_BYTES = MAX_TYPED_TEXT_BYTES + 1;
/** busboy's own bound on one part's headers (a larger one is a malformed form). */
const MAX_PART_HEADER_BYTES = 16 * 1024;

/**
 * The most a form may send in all: every file at its limit, every field at its limit, and their
 * part headers. A body past it is no form a browser makes; it is cut at once (PORTAL_FORM_TOO_LARGE)
 * rather than read to its end, which for an endless body would hold an upload slot until the
 * server's request timeout.
 */
export function maxFormBytes(limits: MultipartLimits): number {
  const parts = MAX_FIELDS + limits.maxFiles;
  return limits.maxFiles * limits.maxFileBytes + MAX_FIELDS * MAX_FIELD_BYTES + parts * MAX_PART_HEADER_BYTES;
}

/**
 * The refusal a multipart form gets from its head alone, before an upload slot is taken or a byte
 * read (ADR 0404): compressed (busboy would read the compressed bytes as no form), or declaring more
 * bytes than any form of these limits. A client waiting on `Expect: 100-continue` then sends nothing.
 */
export function formRefusedUnread(req: Request, limits: MultipartLimits): JsmSsoError | undefined {
  if (contentCoded(req))
    return new JsmSsoError('PORTAL_BODY_ENCODING', 'the form is compressed', { status: 415 });
  if (declaredPast(req, maxFormBytes(limits)))
    return formTooLargeError('the form declares more bytes than any form', limits);
  return undefined;
}

/** PORTAL_FORM_TOO_LARGE with the limits its page says in words: a text's characters, a file's bytes. */
function formTooLargeError(message: string, limits: MultipartLimits): JsmSsoError {
  return new JsmSsoError('PORTAL_FORM_TOO_LARGE', message, {
    status: 413,
    params: { max: MAX_TYPED_TEXT, maxBytes: limits.maxFileBytes },
  });
}

export interface MultipartLimits {
  maxFileBytes: number;
  maxFiles: number;
}

export interface MultipartForm {
  fields: Record<string, string | string[]>;
  files: UploadedFile[];
  /**
   * Set when a file was too large, one too many, empty, of a type not on the list, or of bytes that
   * are not of its type (PORTAL_UPLOAD_TOO_LARGE / _TOO_MANY / _EMPTY / _TYPE / _CONTENT). The fields are still all read, so the form can be
   * shown again with everything the customer typed; `files` is then empty.
   */
  refused?: JsmSsoError;
}

/**
 * Reads a multipart/form-data body into fields and files. Files go to the upload spool slot, never
 * to memory (the write stream's backpressure paces the upload); the caller releases the slot. A
 * refused file does not end the reading (see `refused`). A body that is not valid multipart
 * (PORTAL_FORM_INVALID, 400) or has too many parts, too large fields or more bytes than any form of
 * these limits (PORTAL_FORM_TOO_LARGE, 413) ends it at once, and so does a client that goes away
 * before the body ends (PORTAL_CLIENT_ABORTED). After an early end the rest of the body is
 * discarded unparsed, so the refusal can be answered while the client still sends.
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
    // Each file part's outcome, in the form's order: spooling and content checks end in any order,
    // but the files reach Atlassian in the order the customer chose them, and a form with several
    // bad files is refused for the first of them, whatever the timing.
    const outcomes: Promise<UploadedFile | JsmSsoError | undefined>[] = [];
    let failure: JsmSsoError | undefined;
    const fail = (err: JsmSsoError) => {
      failure ??= err;
    };
    const fileRefusal = (code: PortalErrorCode, message: string, status: number, filename: string) =>
      new JsmSsoError(code, message, { status, params: { filename } });
    // Nothing more of such a body is worth reading: what follows is refused whatever it holds.
    const formTooLarge = () => {
      req.off('data', count);
      req.unpipe(parser);
      // Discarded, not left unread: a client sees the answer without a reset connection losing it.
      req.resume();
      parser.destroy(
        formTooLargeError('the form has too many parts, too large fields or too many bytes', limits),
      );
    };
    const budget = maxFormBytes(limits);
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > budget) formTooLarge();
    };
    req.on('data', count);
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return formTooLarge();
      const prev = fields[name];
      fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    });
    parser.on('file', (_name, stream, info) => {
      // An empty name is a file input left empty (browsers send it so), or a name that was all path.
      const filename = safeFileName(info.filename ?? '');
      if (!filename) {
        stream.resume();
        return;
      }
      const type = uploadType(filename);
      if (!type) {
        outcomes.push(
          Promise.resolve(
            fileRefusal('PORTAL_UPLOAD_TYPE', 'a file type not on the allow-list', 415, filename),
          ),
        );
        stream.resume();
        return;
      }
      const path = slot.nextPath();
      let size = 0;
      const hash = createHash('sha256');
      stream.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
      });
      outcomes.push(
        pipeline(stream, createWriteStream(path, { mode: 0o600 })).then(async () => {
          // Named, as the other refusals of one file are: of several files she must know which (ADR 0433).
          if (stream.truncated)
            return new JsmSsoError('PORTAL_UPLOAD_TOO_LARGE', `a file over ${limits.maxFileBytes} bytes`, {
              status: 413,
              params: { filename, maxBytes: limits.maxFileBytes },
            });
          // Refused, not left out: the customer chose it and would think it attached.
          if (size === 0) return fileRefusal('PORTAL_UPLOAD_EMPTY', 'an empty file', 400, filename);
          const problem = await contentProblem(filename, path);
          if (problem)
            return fileRefusal(
              'PORTAL_UPLOAD_CONTENT',
              `the bytes are not of the file's type (${problem})`,
              415,
              filename,
            );
          return { filename, mimeType: type, path, size, sha256: hash.digest('hex') };
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
    parser.on('fieldsLimit', formTooLarge);
    parser.on('partsLimit', formTooLarge);
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
      // Not `req.complete`: a body that has all arrived may still be unread when the connection closes
      // (the file's writing behind, a client's half-close answered by closing), and is dropped (ADR 0250).
      if (!req.readableEnded)
        parser.destroy(
          new JsmSsoError('PORTAL_CLIENT_ABORTED', 'the client went away during the upload', { status: 400 }),
        );
    });
    parser.on('close', () => {
      Promise.all(outcomes).then(
        (spooled) => {
          const refused = spooled.find((o) => o instanceof JsmSsoError) ?? failure;
          const files = spooled.filter(
            (o): o is UploadedFile => o !== undefined && !(o instanceof JsmSsoError),
          );
          resolve(refused ? { fields, files: [], refused } : { fields, files });
        },
        (cause: unknown) =>
          reject(new JsmSsoError('PORTAL_FORM_INVALID', 'the form could not be read', { cause })),
      );
    });
    req.pipe(parser);
  });
}
