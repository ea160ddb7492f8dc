import type { IncomingMessage } from 'node:http';
import { JsmSsoError } from '../common/errors.js';
import { contentCoded, declaredPast } from '../common/http/request-body.js';

/** Request parsing at the broker's edge, with limits so no input can exhaust memory. */

export const MAX_FORM_BYTES = 256 * 1024;

export async function readForm(req: IncomingMessage, limit = MAX_FORM_BYTES): Promise<URLSearchParams> {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw new JsmSsoError('HTTP_FORM_EXPECTED', 'this endpoint accepts only an HTML form post', {
      status: 415,
    });
  }
  return new URLSearchParams((await readBody(req, limit)).toString('utf8'));
}

/**
 * SOAP 1.1's media type (SAML bindings 3.2.3.1), and SOAP 1.2's, which pysaml2 sends with the same
 * 1.1 envelope; the envelope's namespace, checked later, is what tells the versions apart.
 */
const SOAP_MEDIA_TYPES: readonly string[] = ['text/xml', 'application/soap+xml'];

/** A SOAP envelope posted back-channel, as text, at most `limit` bytes. */
export async function readSoapEnvelope(req: IncomingMessage, limit: number): Promise<string> {
  if (!SOAP_MEDIA_TYPES.includes(mediaType(req))) {
    throw new JsmSsoError('HTTP_SOAP_EXPECTED', 'this endpoint accepts only a SOAP message', {
      status: 415,
    });
  }
  return (await readBody(req, limit)).toString('utf8');
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The body as sent, at most `limit` bytes. Refused from its head alone, before a byte is read (and so
 * before "100 Continue", ADR 0404): a content coding, which the broker does not undo, and a declared
 * length past the limit.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (contentCoded(req))
    throw new JsmSsoError('HTTP_CONTENT_ENCODING_UNSUPPORTED', 'the request body is compressed', {
      status: 415,
    });
  if (declaredPast(req, limit))
    throw new JsmSsoError('HTTP_BODY_TOO_LARGE', 'the request is too large', { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit)
        throw new JsmSsoError('HTTP_BODY_TOO_LARGE', 'the request is too large', { status: 413 });
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    // The client closed the connection mid-body, or Node cut a trickling body at the request timeout
    // (it answered 408 itself): the client's doing, not a fault of the broker's (ADR 0229).
    if (err instanceof JsmSsoError || !req.destroyed) throw err;
    throw new JsmSsoError('HTTP_CLIENT_ABORTED', 'the client went away before its request body ended', {
      status: 400,
      cause: err,
    });
  }
  return Buffer.concat(chunks);
}

/** A form or query parameter that must appear at most once. */
export function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1)
    throw new JsmSsoError('HTTP_PARAMETER_REPEATED', `the parameter ${name} is repeated`);
  return values[0];
}
