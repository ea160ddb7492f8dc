// Misbehaviour a client of Atlassian must survive, switched on per test: rate limiting (429 with
// Retry-After and X-RateLimit-*), 503, slow answers, redirects, and connections dropped mid-request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface FaultRule {
  /** Answer with this status instead of handling the request (429 and 503 get Atlassian's headers). */
  status?: number;
  /**
   * For 429/503: the Retry-After header, in seconds (default 1). With `statusAfterHandling`, the
   * Retry-After its answer carries (none when not set): a proxy or load balancer in front of
   * Atlassian answering 503 with Retry-After once the work was committed.
   */
  retryAfterSeconds?: number;
  /**
   * The error message in the answer's body (default: by status). Atlassian's own messages may quote
   * what was sent (a summary, a name): tests use this to prove such words never reach a log line.
   */
  message?: string;
  /** Wait this long before answering (alone: a slow but otherwise normal response). */
  delayMs?: number;
  /**
   * Wait until this settles before handling the request (in-process tests only): a write held at
   * Atlassian for exactly as long as a test needs, with no timer to race.
   */
  heldUntil?: Promise<unknown>;
  /**
   * Run this when the request arrives and wait for it, then handle the request (in-process tests
   * only): a fault injected elsewhere (in Redis, say) at the moment Atlassian does the work, or a
   * request held until others have arrived.
   */
  onArrival?: (req: IncomingMessage) => Promise<unknown>;
  /**
   * Handle the request normally but hold the answer this long: Atlassian has done the work and the
   * caller has not heard (a client that crashes or times out meanwhile never learns of it).
   */
  holdAnswerMs?: number;
  /**
   * Handle the request normally (Atlassian does the work), then answer this status in place of its
   * answer: a gateway or edge failing after the work was committed (a 502 or 504 in front of a
   * create that succeeded).
   */
  statusAfterHandling?: number;
  /**
   * Handle the request normally (Atlassian does the work), then destroy the socket in place of its
   * answer: the connection lost after the work was committed.
   */
  dropAfterHandling?: boolean;
  /**
   * Handle the request normally but send this rewrite of its JSON answer: a site answering what
   * Atlassian documents differently (say, a malformed account id); `undefined` sends an empty body
   * (the work done, where `answer` does none). In-process tests only.
   */
  rewriteJson?: (body: unknown) => unknown;
  /**
   * Handle the request normally but send its body slowly, `sliceBytes` every `intervalMs` (a large
   * file on a slow link); with `dropAfterBytes`, destroy the socket once that much went out (the
   * site dying mid-body; at 0, right after its status line and headers). `onClose` (in-process
   * tests only) learns how the answer ended.
   */
  trickle?: {
    sliceBytes: number;
    intervalMs: number;
    dropAfterBytes?: number;
    onClose?: (end: { sentBytes: number; finished: boolean }) => void;
  };
  /**
   * Handle the request normally but, in place of its body, send that body again and again without
   * end (chunked, no Content-Length) until the socket closes: a site whose answer never ends.
   * `onClose` (in-process tests only) learns how many bytes went out.
   */
  endlessBody?: { onClose?: (end: { sentBytes: number }) => void };
  /** Handle the request normally but declare this Content-Length, whatever the body is. */
  contentLength?: number;
  /** Handle the request normally but send its body gzip-compressed (`Content-Encoding: gzip`). */
  gzip?: boolean;
  /**
   * Answer with this redirect instead of handling the request: Atlassian, or something between it
   * and the caller, sending the caller (and whatever credentials it carries) elsewhere.
   */
  redirect?: { status: 301 | 302 | 303 | 307 | 308; location: string };
  /**
   * Answer 200 with this body instead of handling the request: something in Atlassian's place (a
   * proxy's sign-in page, a captive portal, a site's maintenance page) answering what is no JSON.
   */
  answer?: { contentType: string; body: string | Buffer };
  /** Destroy the socket without answering. */
  dropConnection?: boolean;
  /** Only requests whose path starts with this (e.g. `/rest/servicedeskapi/request`). */
  pathPrefix?: string;
  /** Only this HTTP method. */
  method?: string;
  /** Apply to this many matching requests, then expire (default: until cleared). */
  times?: number;
}

export interface FaultControl {
  /** Replaces all rules with these. */
  set(...rules: FaultRule[]): void;
  /**
   * Adds a rule after the existing ones (the first matching rule wins); what it returns withdraws
   * that rule alone, others staying (a fault for a window while other faults come and go).
   */
  add(rule: FaultRule): () => void;
  clear(): void;
  list(): FaultRule[];
  /** Requests each rule has hit so far, in rule order. */
  hits(): number[];
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
  hits: number;
}

export class Faults implements FaultControl {
  private rules: ActiveRule[] = [];

  set(...rules: FaultRule[]): void {
    this.rules = [];
    for (const rule of rules) this.add(rule);
  }

  add(rule: FaultRule): () => void {
    if (
      rule.status !== undefined &&
      (!Number.isInteger(rule.status) || rule.status < 400 || rule.status > 599)
    ) {
      throw new RangeError(`fault status must be 400-599, got ${rule.status}`);
    }
    const active = { rule: { ...rule }, remaining: rule.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.rules.push(active);
    return () => {
      active.remaining = 0;
    };
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.filter((r) => r.remaining > 0).map((r) => ({ ...r.rule }));
  }

  hits(): number[] {
    return this.rules.map((r) => r.hits);
  }

  /** The rule that applies to this request (consuming one of its `times`), if any. */
  take(method: string, path: string): FaultRule | undefined {
    const active = this.rules.find(
      (r) =>
        r.remaining > 0 &&
        (r.rule.pathPrefix === undefined || path.startsWith(r.rule.pathPrefix)) &&
        (r.rule.method === undefined || r.rule.method.toUpperCase() === method),
    );
    if (!active) return undefined;
    active.remaining--;
    active.hits++;
    return active.rule;
  }
}

const RATE_LIMIT = 100;

/** Applies a fault; returns true when the response is taken care of (no normal handling). */
export async function applyFault(
  rule: FaultRule,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
  if (rule.heldUntil) await rule.heldUntil.catch(() => undefined);
  if (rule.onArrival) await rule.onArrival(req).catch(() => undefined);
  if (rule.holdAnswerMs) {
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      setTimeout(() => end(...args), rule.holdAnswerMs);
      return res;
    }) as typeof res.end;
  }
  if (rule.rewriteJson) {
    const rewrite = rule.rewriteJson;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk === undefined || typeof chunk === 'function') return end(chunk, ...rest);
      const rewritten = rewrite(JSON.parse(String(chunk)));
      const body = rewritten === undefined ? '' : JSON.stringify(rewritten);
      res.setHeader('Content-Length', Buffer.byteLength(body));
      return end(body, ...rest);
    }) as typeof res.end;
  }
  if (rule.statusAfterHandling !== undefined)
    answerAfterHandling(rule.statusAfterHandling, rule.retryAfterSeconds, req, res);
  if (rule.dropAfterHandling) {
    res.end = (() => {
      req.socket.destroy();
      return res;
    }) as typeof res.end;
  }
  if (rule.trickle) trickleBody(rule.trickle, req, res);
  if (rule.endlessBody) endlessBody(rule.endlessBody, res);
  if (rule.contentLength !== undefined) declareContentLength(rule.contentLength, res);
  if (rule.gzip) gzipBody(res);
  if (rule.dropConnection) {
    req.socket.destroy();
    return true;
  }
  if (rule.answer) {
    res.writeHead(200, { 'Content-Type': rule.answer.contentType });
    res.end(rule.answer.body);
    return true;
  }
  if (rule.redirect) {
    res.writeHead(rule.redirect.status, { Location: rule.redirect.location, 'Content-Length': '0' });
    res.end();
    return true;
  }
  if (rule.status === undefined) return false;
  const retryAfter = rule.retryAfterSeconds ?? 1;
  if (rule.status === 429) {
    res.setHeader('Retry-After', String(retryAfter));
    res.setHeader('X-RateLimit-Limit', String(RATE_LIMIT));
    res.setHeader('X-RateLimit-Remaining', '0');
    res.setHeader('X-RateLimit-Reset', new Date(Date.now() + retryAfter * 1000).toISOString());
    res.setHeader('RateLimit-Reason', 'jira-quota-global-based');
  } else if (rule.status === 503) {
    res.setHeader('Retry-After', String(retryAfter));
  }
  const message =
    rule.message ??
    (rule.status === 429
      ? 'Rate limit exceeded.'
      : rule.status === 503
        ? 'Service Unavailable'
        : 'Emulated failure');
  res.statusCode = rule.status;
  res.setHeader('Content-Type', 'application/json;charset=UTF-8');
  res.end(errorBody(req, rule.status, message));
  return true;
}

/** Each API writes errors its own way: the platform an ErrorCollection, the servicedeskapi an ErrorResponse. */
function errorBody(req: IncomingMessage, status: number, message: string): string {
  return JSON.stringify(
    req.url?.startsWith('/rest/api/')
      ? { errorMessages: [message], errors: {} }
      : { errorMessage: message, i18nErrorMessage: { i18nKey: `emulator.fault.${status}`, parameters: [] } },
  );
}

/**
 * Replaces the handler's answer, once it is made, with a `status` error (see
 * FaultRule.statusAfterHandling), with `retryAfterSeconds` as its Retry-After when set; a bodiless
 * one (a transition's 204) too.
 */
function answerAfterHandling(
  status: number,
  retryAfterSeconds: number | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'function') return end(chunk, ...rest);
    const body = errorBody(req, status, 'Emulated failure after the work was done');
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json;charset=UTF-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
    return end(body);
  }) as typeof res.end;
}

/** Replaces `res.end(body)` with the body written slice by slice (see FaultRule.trickle). */
function trickleBody(
  trickle: NonNullable<FaultRule['trickle']>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const { sliceBytes, intervalMs, dropAfterBytes, onClose } = trickle;
  let sent = 0;
  res.once('close', () => onClose?.({ sentBytes: sent, finished: res.writableFinished }));
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (!Buffer.isBuffer(chunk)) return end(chunk, ...rest);
    const next = () => {
      if (res.destroyed) return;
      if (dropAfterBytes !== undefined && sent >= dropAfterBytes) {
        // Dropped before any byte: after the status line and headers, as a site dying then does.
        if (sent === 0) res.flushHeaders();
        req.socket.destroy();
        return;
      }
      const slice = chunk.subarray(sent, sent + sliceBytes);
      sent += slice.length;
      if (sent >= chunk.length) {
        end(slice);
        return;
      }
      res.write(slice);
      setTimeout(next, intervalMs);
    };
    next();
    return res;
  }) as typeof res.end;
}

/** Replaces `res.end(body)` with the body written over and over (see FaultRule.endlessBody). */
function endlessBody(endless: NonNullable<FaultRule['endlessBody']>, res: ServerResponse): void {
  let sent = 0;
  res.once('close', () => endless.onClose?.({ sentBytes: sent }));
  res.end = ((chunk?: unknown) => {
    const body = Buffer.isBuffer(chunk) && chunk.length > 0 ? chunk : Buffer.from('endless ');
    res.removeHeader('Content-Length');
    const next = () => {
      // Written until the buffer is full, then again once it drains: as fast as the reader reads.
      while (!res.destroyed && res.write(body)) sent += body.length;
      if (!res.destroyed) {
        sent += body.length;
        res.once('drain', next);
      }
    };
    next();
    return res;
  }) as typeof res.end;
}

/** Sends the body as it is, under a Content-Length that need not be its length. */
function declareContentLength(length: number, res: ServerResponse): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    res.setHeader('Content-Length', String(length));
    return end(...args);
  }) as typeof res.end;
}

/** Sends the body gzip-compressed, its Content-Length the compressed one (as a compressing site does). */
function gzipBody(res: ServerResponse): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (!Buffer.isBuffer(chunk)) return end(chunk, ...rest);
    const compressed = gzipSync(chunk);
    res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', String(compressed.length));
    return end(compressed);
  }) as typeof res.end;
}
