/**
 * Body parser (express.urlencoded, express.text) refusals as clear client errors: a body over the
 * size or parameter limit is 413, never a 500 with PORTAL_INTERNAL in the error log; a charset other
 * than UTF-8 or any Content-Encoding 415 (http/body-parsers.ts inflates nothing, ADR 0404).
 * Classified by the parser's stable `type`, not by its message. The page says the code's message
 * from the catalogue. A body cut by its client is no refusal: http/body-parsers.ts ends its request
 * as PORTAL_CLIENT_ABORTED (ADR 0406).
 */
import type { PortalErrorCode } from '../../common/error-codes.js';
import { MAX_TYPED_TEXT } from '../typed-text.js';

export interface BodyRefusal {
  status: number;
  code: PortalErrorCode;
  params: Readonly<Record<string, number>>;
}

const refusal = (status: number, code: PortalErrorCode, params: BodyRefusal['params'] = {}): BodyRefusal => ({
  status,
  code,
  params,
});

const BODY_REFUSALS: Record<string, BodyRefusal> = {
  // Its page says the longest text a form takes: the one field a customer can make that long.
  'entity.too.large': refusal(413, 'PORTAL_BODY_TOO_LARGE', { max: MAX_TYPED_TEXT }),
  'parameters.too.many': refusal(413, 'PORTAL_BODY_TOO_MANY_PARAMETERS'),
  'request.size.invalid': refusal(400, 'PORTAL_BODY_INVALID'),
  'entity.parse.failed': refusal(400, 'PORTAL_BODY_INVALID'),
  'encoding.unsupported': refusal(415, 'PORTAL_BODY_ENCODING'),
  'charset.unsupported': refusal(415, 'PORTAL_BODY_ENCODING'),
};

export function bodyRefusal(err: unknown): BodyRefusal | undefined {
  const { type } = (err ?? {}) as { type?: unknown };
  return typeof type === 'string' ? BODY_REFUSALS[type] : undefined;
}

/** A body whose declared length is past the parser's limit, refused as the parser refuses one it read. */
export function declaredTooLarge(): Error {
  return Object.assign(new Error('the declared body is larger than the limit'), {
    status: 413,
    type: 'entity.too.large',
  });
}
