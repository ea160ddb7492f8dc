// What every emulated endpoint shares: Basic authentication, Atlassian's error bodies, paging and
// expand parameters, and the experimental-API header check.
import type { NextFunction, Request, Response } from 'express';
import { type LinkContext, type PageRequest, page } from './dto.js';
import type { EmulatorState, User } from './state.js';

/** A servicedeskapi error: `{errorMessage, i18nErrorMessage}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly i18nKey: string,
    readonly parameters: string[] = [],
  ) {
    super(message);
  }
}

/** A Jira platform error: `{errorMessages: [...], errors: {}}`. */
export class PlatformError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError(
    404,
    `${what} ${id} does not exist or you do not have permission to see it.`,
    'sd.emulator.error.not.found',
    [id],
  );
export const forbidden = (message: string) => new ApiError(403, message, 'sd.emulator.error.forbidden');
export const badRequest = (
  message: string,
  i18nKey = 'sd.emulator.error.bad.request',
  parameters: string[] = [],
) => new ApiError(400, message, i18nKey, parameters);

export interface Locals {
  caller: User;
  links: LinkContext;
}

export function locals(res: Response): Locals {
  return res.locals as Locals;
}

/** HTTP Basic `email:apiToken` against the seeded users; sets `X-AACCOUNTID` like Atlassian. */
export function authenticate(state: EmulatorState) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon > 0 ? state.userByEmail(decoded.slice(0, colon)) : undefined;
    if (!user || user.apiToken === undefined || user.apiToken !== decoded.slice(colon + 1) || !user.active) {
      res.setHeader('WWW-Authenticate', 'Basic realm="protected-area"');
      throw new ApiError(
        401,
        'Client must be authenticated to access this resource.',
        'sd.emulator.error.unauthenticated',
      );
    }
    res.setHeader('X-AACCOUNTID', user.accountId);
    res.locals['caller'] = user;
    res.locals['links'] = { base: `${req.protocol}://${req.get('host') ?? 'localhost'}` };
    next();
  };
}

/** Experimental operations need `X-ExperimentalApi: opt-in`, or Atlassian answers 412. */
export function experimental(req: Request, _res: Response, next: NextFunction): void {
  if ((req.get('X-ExperimentalApi') ?? '').toLowerCase() !== 'opt-in') {
    throw new ApiError(
      412,
      "This API is experimental. Experimental APIs are not guaranteed to be stable within the preview period. You must set the header 'X-ExperimentalApi: opt-in' to opt into using this API.",
      'sd.emulator.error.experimental',
    );
  }
  next();
}

function integer(req: Request, name: string, fallback: number, min: number): number {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw))
    throw badRequest(`The ${name} parameter must be an integer.`, 'sd.emulator.error.parameter.integer', [
      name,
    ]);
  return Math.max(min, Number(raw));
}

/**
 * `start`/`limit` with the method's server-enforced maximum, `cap` (also the default `limit`).
 * Atlassian caps silently: a page asked for more holds `cap` items and echoes the `limit` asked, so
 * its `size` is below its `limit` and `isLastPage` is false ("Pagination").
 */
export function paging(req: Request, cap = 50): PageRequest {
  return { start: integer(req, 'start', 0, 0), limit: integer(req, 'limit', cap, 1), cap };
}

/** The paging envelope answering this request: its links keep the query, its window is its start/limit. */
export function pageOf<T, R>(
  req: Request,
  res: Response,
  path: string,
  items: readonly T[],
  map: (item: T) => R,
  cap?: number,
) {
  return page(locals(res).links, path, queryOf(req), items, paging(req, cap), map);
}

/** Multi-valued query parameter, repeated or comma-separated (`expand=a&expand=b` or `expand=a,b`). */
export function multi(req: Request, name: string): string[] {
  const raw = req.query[name];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list
    .flatMap((v) => (typeof v === 'string' ? v.split(',') : []))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export function single(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw badRequest(`The ${name} parameter may only be given once.`);
  return raw;
}

/** The query string as sent, for paging links. */
export function queryOf(req: Request): URLSearchParams {
  const q = req.originalUrl.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1));
  params.delete('start');
  params.delete('limit');
  return params;
}

/** Body of a JSON request as an object (400 otherwise). */
export function jsonBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('The request body must be a JSON object.', 'sd.emulator.error.body');
  return body as Record<string, unknown>;
}

export function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw badRequest(`${name} must be an array of strings.`, 'sd.emulator.error.body', [name]);
  return value as string[];
}

/** Turns thrown errors (ours, body-parser's) into Atlassian's error bodies. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err instanceof PlatformError) {
    res.status(err.status).json({ errorMessages: [err.message], errors: err.errors });
    return;
  }
  const api =
    err instanceof ApiError
      ? err
      : typeof (err as { status?: unknown }).status === 'number' && (err as { status: number }).status < 500
        ? new ApiError(
            (err as { status: number }).status,
            'The request body is not valid JSON.',
            'sd.emulator.error.body',
          )
        : new ApiError(500, 'Internal server error', 'sd.emulator.error.internal');
  if (req.path.startsWith('/rest/api/')) {
    res.status(api.status).json({ errorMessages: [api.message], errors: {} });
    return;
  }
  res.status(api.status).json({
    errorMessage: api.message,
    i18nErrorMessage: { i18nKey: api.i18nKey, parameters: api.parameters },
  });
}

/** Agent-only operations (customers, organizations, SLAs): Atlassian answers a customer with 403. */
export function requireAgent(res: Response): void {
  if (locals(res).caller.kind !== 'agent')
    throw forbidden('You do not have permission to perform this operation.');
}
