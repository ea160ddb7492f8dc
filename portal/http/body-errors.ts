/**
 * Body parser (express.urlencoded) refusals as clear client errors: a body over the size or
 * parameter limit is 413, never a 500 with PORTAL_INTERNAL in the error log. Classified by the
 * parser's stable `type`, not by its message.
 */
const BODY_REFUSALS: Record<string, { status: number; code: string; message: string }> = {
  'entity.too.large': { status: 413, code: 'PORTAL_BODY_TOO_LARGE', message: 'The form sent is too large.' },
  'parameters.too.many': {
    status: 413,
    code: 'PORTAL_BODY_TOO_MANY_PARAMETERS',
    message: 'The form sent has too many fields.',
  },
  'request.size.invalid': {
    status: 400,
    code: 'PORTAL_BODY_INVALID',
    message: 'The form could not be read.',
  },
  'request.aborted': { status: 400, code: 'PORTAL_BODY_INVALID', message: 'The form could not be read.' },
  'entity.parse.failed': { status: 400, code: 'PORTAL_BODY_INVALID', message: 'The form could not be read.' },
  'encoding.unsupported': {
    status: 415,
    code: 'PORTAL_BODY_ENCODING',
    message: 'The form’s encoding is not supported.',
  },
  'charset.unsupported': {
    status: 415,
    code: 'PORTAL_BODY_ENCODING',
    message: 'The form’s encoding is not supported.',
  },
};

/**
 * A Content-Encoding body that does not inflate reaches us as zlib's own error, with no parser
 * `type`; zlib's stable codes for corrupt and truncated input tell it apart from a server fault.
 */
const UNREADABLE_COMPRESSION = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);

export function bodyRefusal(err: unknown): { status: number; code: string; message: string } | undefined {
  const { type, code } = (err ?? {}) as { type?: unknown; code?: unknown };
  if (typeof type === 'string') return BODY_REFUSALS[type];
  return typeof code === 'string' && UNREADABLE_COMPRESSION.has(code)
    ? BODY_REFUSALS['entity.parse.failed']
    : undefined;
}
