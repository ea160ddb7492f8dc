import busboy from 'busboy';
import type { Request } from 'express';
import { JsmSsoError } from '../../common/errors.js';
import { replaceControlCharacters } from '../text.js';

export interface UploadedFile {
  filename: string;
  mimeType: string;
  data: Buffer;
}

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
 * Reads a multipart/form-data body into fields and files. A refused file does not end the reading
 * (see `refused`); only a body that is not valid multipart does (PORTAL_FORM_INVALID).
 */
export function readMultipart(req: Request, limits: MultipartLimits): Promise<MultipartForm> {
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
          fields: 200,
          fieldSize: 64 * 1024,
          parts: 300,
        },
      });
    } catch (cause) {
      reject(new JsmSsoError('PORTAL_FORM_INVALID', 'the form could not be read', { cause }));
      return;
    }
    const fields: Record<string, string | string[]> = {};
    const files: UploadedFile[] = [];
    let failure: JsmSsoError | undefined;
    const fail = (err: JsmSsoError) => {
      failure ??= err;
    };
    parser.on('field', (name, value) => {
      const prev = fields[name];
      fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    });
    parser.on('file', (_name, stream, info) => {
      const filename = cleanFilename(info.filename ?? '');
      const chunks: Buffer[] = [];
      if (!info.filename) {
        stream.resume();
        return;
      }
      const type = uploadType(filename);
      if (!type) {
        fail(
          new JsmSsoError('PORTAL_UPLOAD_TYPE', `files of this type cannot be attached (${filename})`, {
            status: 415,
          }),
        );
        stream.resume();
        return;
      }
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () =>
        fail(
          new JsmSsoError(
            'PORTAL_UPLOAD_TOO_LARGE',
            `files can be at most ${limits.maxFileBytes / 1048576} MB`,
            { status: 413 },
          ),
        ),
      );
      stream.on('end', () => {
        const data = Buffer.concat(chunks);
        if (data.length > 0) files.push({ filename, mimeType: type, data });
      });
    });
    parser.on('filesLimit', () =>
      fail(
        new JsmSsoError(
          'PORTAL_UPLOAD_TOO_MANY',
          `at most ${limits.maxFiles} files can be attached at once`,
          { status: 413 },
        ),
      ),
    );
    parser.on('error', (cause) =>
      reject(new JsmSsoError('PORTAL_FORM_INVALID', 'the form could not be read', { cause })),
    );
    parser.on('close', () => resolve(failure ? { fields, files: [], refused: failure } : { fields, files }));
    req.pipe(parser);
  });
}
