import type { IncomingMessage } from 'node:http';
import { JsmSsoError } from '../common/errors.js';

/** Request parsing at the broker's edge, with limits so no input can exhaust memory. */

export const MAX_FORM_BYTES = 256 * 1024;

export async function readForm(req: IncomingMessage, limit = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new JsmSsoError('HTTP_FORM_EXPECTED', 'this endpoint accepts only an HTML form post', {
      status: 415,
    });
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit)
    throw new JsmSsoError('HTTP_BODY_TOO_LARGE', 'the request is too large', { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new JsmSsoError('HTTP_BODY_TOO_LARGE', 'the request is too large', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A form or query parameter that must appear at most once. */
export function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1)
    throw new JsmSsoError('HTTP_PARAMETER_REPEATED', `the parameter ${name} is repeated`);
  return values[0];
}
