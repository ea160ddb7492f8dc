/**
 * Body parser (express.urlencoded) refusals as clear client errors: a body over the size or
 * parameter limit is 413, never a 500 with PORTAL_INTERNAL in the error log. Classified by the
 * parser's stable `type`, not by its message. The page says the code's message from the catalogue.
 */
import type { PortalErrorCode } from '../../common/error-codes.js';

export interface BodyRefusal {
  status: number;
  code: PortalErrorCode;
  params: Record<string, never>;
}

const refusal = (status: number, code: PortalErrorCode): BodyRefusal => ({ status, code, params: {} });

const BODY_REFUSALS: Record<string, BodyRefusal> = {
  'entity.too.large': refusal(413, 'PORTAL_BODY_TOO_LARGE'),
  'parameters.too.many': refusal(413, 'PORTAL_BODY_TOO_MANY_PARAMETERS'),
  'request.size.invalid': refusal(400, 'PORTAL_BODY_INVALID'),
  'request.aborted': refusal(400, 'PORTAL_BODY_INVALID'),
  'entity.parse.failed': refusal(400, 'PORTAL_BODY_INVALID'),
  'encoding.unsupported': refusal(415, 'PORTAL_BODY_ENCODING'),
  'charset.unsupported': refusal(415, 'PORTAL_BODY_ENCODING'),
};

/**
 * A Content-Encoding body that does not inflate reaches us as zlib's own error, with no parser
 * `type`; zlib's stable codes for corrupt and truncated input tell it apart from a server fault.
 */
const UNREADABLE_COMPRESSION = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);

export function bodyRefusal(err: unknown): BodyRefusal | undefined {
  const { type, code } = (err ?? {}) as { type?: unknown; code?: unknown };
  if (typeof type === 'string') return BODY_REFUSALS[type];
  return typeof code === 'string' && UNREADABLE_COMPRESSION.has(code)
    ? BODY_REFUSALS['entity.parse.failed']
    : undefined;
}
