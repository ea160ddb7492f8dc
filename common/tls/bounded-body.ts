import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { JsmSsoError } from '../errors.js';

/**
 * How much of an answer an outbound call reads (ADR 0149): an IdP's discovery document, JWKS,
 * token answer, userinfo and metadata are a few KiB, so 1 MiB is generous; a part that expects more
 * (the Atlassian API) sets its own limit, per fetch or per call. The limit counts the bytes the
 * caller gets, decompressed: a gzip bomb is as bounded as an endless body.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** An upstream's answer over the limit: 502, the person's sign-in or page fails, nothing else does. */
export function responseTooLarge(limit: number, url?: string | URL): JsmSsoError {
  const from = url ? `the answer of ${new URL(url).origin}` : 'an upstream answer';
  return new JsmSsoError(
    'UPSTREAM_RESPONSE_TOO_LARGE',
    `${from} is larger than ${limit} bytes: not read further`,
    { status: 502, params: { maxBytes: limit } },
  );
}

/** The limit of each Response made here: bounding it again as tightly or looser changes nothing. */
const bounds = new WeakMap<Response, number>();

/**
 * `response` with a body that errors with UPSTREAM_RESPONSE_TOO_LARGE past `limit` bytes and
 * cancels the rest (the connection is dropped), so `text()`, `json()` or a reader never hold more:
 * a larger Content-Length is refused before a byte is read. The body is counted as the caller gets
 * it, after fetch's decompression. A response bounded as tightly already is returned as it is.
 */
export function boundedResponse(response: Response, limit: number): Response {
  const body = response.body;
  if (body === null || limit === Number.POSITIVE_INFINITY || (bounds.get(response) ?? Infinity) <= limit)
    return response;
  // An absent (0) or unreadable (NaN) length is not over the limit: the count below still holds.
  if (Number(response.headers.get('content-length')) > limit) {
    body.cancel().catch(() => undefined);
    throw responseTooLarge(limit, response.url || undefined);
  }
  let size = 0;
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > limit) controller.error(responseTooLarge(limit, response.url || undefined));
        else controller.enqueue(chunk);
      },
    }),
  );
  const bounded = new Response(counted, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  bounds.set(bounded, limit);
  return bounded;
}

type Decoder = (bytes: Buffer, options: { maxOutputLength: number }) => Buffer;

/**
 * "deflate" is the zlib format (RFC 9110 8.4.1.2), which some servers send without its wrapper, as
 * the RFC notes; Node's fetch reads either, told apart by the first byte (a zlib header's method, 8,
 * in its low four bits), and so does the exchange (ADR 0267).
 */
const inflateEither: Decoder = (bytes, options) =>
  ((bytes[0] ?? 0) & 0x0f) === 0x08 ? inflateSync(bytes, options) : inflateRawSync(bytes, options);

/** The content codings an answer read whole is decoded from (those Node's fetch decodes). */
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateEither,
  br: brotliDecompressSync,
};

/**
 * A body read whole (at most `limit` bytes on the wire), decoded from its Content-Encoding into at
 * most `limit` bytes: zlib stops inflating at `maxOutputLength`, so a bomb costs no more than that.
 * An upstream may encode without being asked (RFC 9110 12.5.3: no Accept-Encoding means any coding
 * is acceptable); a coding we cannot decode, or bytes that do not decode, are refused clearly.
 */
export function decodedBody(
  bytes: Buffer<ArrayBuffer>,
  contentEncoding: string,
  url: URL,
  limit: number,
): Buffer<ArrayBuffer> {
  const coding = contentEncoding.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return bytes;
  const decode = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
  if (!decode)
    throw new JsmSsoError(
      'UPSTREAM_RESPONSE_ENCODING_INVALID',
      `the answer of ${url.origin} has a content coding that is not decoded (${coding.slice(0, 40)})`,
      { status: 502 },
    );
  try {
    // zlib's one-shot output is a Buffer of its own ArrayBuffer.
    return decode(bytes, { maxOutputLength: limit }) as Buffer<ArrayBuffer>;
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw responseTooLarge(limit, url);
    throw new JsmSsoError(
      'UPSTREAM_RESPONSE_ENCODING_INVALID',
      `the answer of ${url.origin} does not decode`,
      {
        status: 502,
        cause,
      },
    );
  }
}
