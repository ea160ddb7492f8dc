import { exchangeSignal, releasedWithBody } from '../../common/exchange-signal.js';
import { sleepMs } from '../../common/sleep.js';
import {
  boundedResponse,
  DEFAULT_MAX_RESPONSE_BYTES,
  type OutboundInit,
  outboundBoundMet,
} from '../../common/tls/index.js';
import { AtlassianBulkhead, type BulkheadLimits, DEFAULT_BULKHEAD_LIMITS } from './bulkhead.js';
import { AtlassianError, codeForStatus, parseErrorBody } from './errors.js';
import { pageDeadline, pageTimedOut } from './page-budget.js';
import { type Shape, shapeMismatch } from './shapes.js';

/**
 * An attempt that had no answer, as counted (metrics): its deadline passed (`timeout`) or its
 * connection was lost (`network`) once its request may have gone out; `unsent`: it failed before
 * its request was handed to a connection, the deadline passing while connecting included (ADR 0402);
 * `busy`: not sent, the tenant's bulkhead had no slot in time.
 */
export type AttemptStatus = CallFailure | 'unsent' | 'busy';

/**
 * The transport under the Atlassian client: Basic auth with the service account, a bulkhead (a
 * concurrency and a rate limit of this tenant's own, with a bounded wait), one deadline per call
 * (`timeoutMs` from its start: its retries and their waits fit in it, ADR 0178), cut to what is
 * left of the page's when the call is made for a page (portal/atlassian/page-budget.ts), and bounded
 * retries on 429/503 after Retry-After (none when it asks for more than maxDelayMs), else after
 * exponential backoff with full jitter.
 * Only calls marked `idempotent` are retried; a create is never repeated here (the caller
 * reconciles first, see client.createRequest).
 */
export interface TransportOptions {
  siteUrl: string;
  email: string;
  apiToken: string;
  /**
   * The call's deadline, from its start (after a bounded wait for a bulkhead slot): the first
   * attempt's, headers and body; a retry is made only when its wait ends before it, and gets what
   * is left of it.
   */
  timeoutMs?: number;
  maxRetries?: number;
  /** This tenant's share of Atlassian (portal/atlassian/bulkhead.ts); each attempt takes a slot. */
  limits?: Partial<BulkheadLimits>;
  /** The longest one wait before a retry; a Retry-After asking for more ends the call instead. */
  maxDelayMs?: number;
  baseDelayMs?: number;
  /** Called before each repeated attempt, with the reason (metrics). */
  onRetry?: (reason: string) => void;
  /**
   * Called once per HTTP attempt (metrics, bench), with the seconds until the answer's headers; and
   * with `busy` for a call not sent because the bulkhead had no slot in time (the seconds it waited).
   */
  onCall?: (method: string, path: string, status: number | AttemptStatus, seconds: number) => void;
  /**
   * The fetch to use: common/tls createTlsFetch in the portal (verified TLS, tenant CA bundle, and
   * a bound on how much of an answer is read: `maxResponseBytes`).
   */
  fetch?: (url: string, init: OutboundInit) => Promise<Response>;
  /**
   * Sees each completed exchange (tests check them against Atlassian's spec): a streamed download
   * without its body.
   */
  onExchange?: (exchange: Exchange) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface Exchange {
  method: string;
  path: string;
  status: number;
  requestBody?: unknown;
  responseBody?: unknown;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** An array repeats the parameter (`accountId=a&accountId=b`). */
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  json?: unknown;
  body?: FormData;
  idempotent?: boolean;
  headers?: Record<string, string>;
  /** Return the raw Response (downloads); the caller consumes the body. */
  raw?: boolean;
  /**
   * The most bytes of the answer read, when not the fetch's own limit (ADR 0149): Infinity for a
   * file streamed through to the customer, never held whole.
   */
  maxResponseBytes?: number;
  /**
   * A successful answer may be 303 See Other to where the file is (getAttachmentContent and
   * getAttachmentThumbnail document it: "See the `Location` header for the download URL"). The
   * Location is asked for, with the service account's credentials only on the site's own origin
   * (ADR 0226). Any other redirect is refused as for every call (ADR 0169).
   */
  seeOther?: boolean;
  /** What a successful answer must be for the caller to read it (portal/atlassian/shapes.ts). */
  shape?: Shape;
  /**
   * A write whose success Atlassian documents as 204 No Content alone: any other 2xx (a 200 with or
   * without a body) is something else answering, which may have done nothing (ADR 0339).
   */
  noContent?: boolean;
}

/**
 * The wait Retry-After asks for (delta-seconds or an HTTP date), in ms; undefined when absent or
 * unreadable. Never capped: a caller that may not wait that long gives up rather than ask early.
 */
export function retryAfterMs(retryAfter: string | null, now = Date.now()): number | undefined {
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter, capped at maxDelayMs: the wait when Atlassian named none. */
export function backoffMs(
  attempt: number,
  options: { baseDelayMs: number; maxDelayMs: number; random: () => number },
): number {
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt) * options.random();
}

/**
 * The statuses fetch's `redirect: 'error'` refuses (the Fetch standard's redirect statuses); a 300 or
 * 304 is an answer like any other there, and here.
 */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** See Other hops a download follows: to the file, and once more for a site that sends it on. */
const SEE_OTHER_HOPS = 2;

/**
 * Where a 303 sends a download, or undefined when it names nowhere usable: no Location, not a URL,
 * or not https (plain http only when the site itself is, a development emulator on loopback; the
 * TLS fetch allows that only to loopback anyway).
 */
export function seeOtherTarget(location: string | null, from: string, siteUrl: string): URL | undefined {
  if (!location || !URL.canParse(location, from)) return undefined;
  const target = new URL(location, from);
  const sitePlain = new URL(siteUrl).protocol === 'http:';
  return target.protocol === 'https:' || (sitePlain && target.protocol === 'http:') ? target : undefined;
}

/**
 * The content codings Node's fetch asks an https site for. A single exchange asks for none of its
 * own (common/tls/client.ts); asked here, Atlassian's answers come compressed as they did through
 * fetch, and the exchange decodes them within the answer's limit.
 */
const ACCEPTED_CODINGS = 'br, gzip, deflate';

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** How an attempt failed without an answer: its deadline passed, or its connection failed or was lost. */
type CallFailure = 'timeout' | 'network';

/** An attempt not made: its page's deadline passed while it waited for a bulkhead slot. */
const PAGE_SPENT = { failure: 'timeout', sentNothing: true, cause: undefined } as const;

export class AtlassianTransport {
  readonly #options: Required<
    Omit<TransportOptions, 'onCall' | 'onRetry' | 'onExchange' | 'fetch' | 'limits'>
  > &
    Pick<TransportOptions, 'onCall' | 'onRetry' | 'onExchange' | 'fetch'>;
  readonly #auth: string;
  readonly bulkhead: AtlassianBulkhead;

  constructor(options: TransportOptions) {
    this.#options = {
      timeoutMs: 10_000,
      maxRetries: 3,
      maxDelayMs: 5_000,
      baseDelayMs: 200,
      sleep: sleepMs,
      random: Math.random,
      ...options,
    };
    this.#auth = 'Basic ' + Buffer.from(`${options.email}:${options.apiToken}`).toString('base64');
    this.bulkhead = new AtlassianBulkhead({ ...DEFAULT_BULKHEAD_LIMITS, ...options.limits });
  }

  url(path: string, query?: CallOptions['query']): string {
    const url = new URL(this.#options.siteUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
      else if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  async call<T>(path: string, options: CallOptions = {}): Promise<T> {
    const method = options.method ?? 'GET';
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'PUT' || method === 'DELETE');
    const o = this.#options;
    // One deadline for the call, not one per attempt (ADR 0178): an attempt that timed out spent
    // it, so a site that stopped answering costs the page one timeout, not one per retry.
    // Within a page, no later than the page's deadline either (ADR 0185): a call then cut short by
    // it is the page's timeout, not the call's.
    const own = performance.now() + o.timeoutMs;
    const page = pageDeadline();
    const pageBound = page !== undefined && page < own;
    const deadline = pageBound ? page : own;
    if (deadline <= performance.now()) throw pageTimedOut();
    const fitsDeadline = (waitMs: number) => performance.now() + waitMs < deadline;
    // Whether every attempt so far failed before its request was handed to a connection: then
    // Atlassian received nothing of the call, a write included (ADR 0397).
    let sentNothing = true;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        authorization: this.#auth,
        accept: 'application/json',
        ...options.headers,
      };
      let body: string | FormData | undefined;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      } else if (options.body) {
        body = options.body;
      }
      // The slot is held for one attempt (until its body is read), never across a retry's wait.
      const waiting = process.hrtime.bigint();
      const outcome = await this.bulkhead
        .run(() => {
          // A retry gets what is left of the call's deadline; the first attempt all of it, whatever
          // it waited for its slot (that wait has its own bound, the bulkhead's).
          // (A page's deadline is not extended by that wait: nothing is sent once it is past.)
          const left = deadline - performance.now();
          if (pageBound && left <= 0) return Promise.resolve(PAGE_SPENT);
          const timeoutMs = attempt === 0 && !pageBound ? o.timeoutMs : Math.max(1, left);
          return this.#attempt(
            method,
            path,
            this.url(path, options.query),
            headers,
            body,
            timeoutMs,
            options,
          );
        })
        .catch((err: unknown) => {
          if (err instanceof AtlassianError && err.code === 'ATLASSIAN_BUSY')
            o.onCall?.(method, path, 'busy', Number(process.hrtime.bigint() - waiting) / 1e9);
          throw err;
        });
      if (outcome.failure) {
        sentNothing &&= outcome.sentNothing;
        const timedOut = outcome.failure === 'timeout';
        const wait = backoffMs(attempt, o);
        // An attempt that sent nothing is asked again as a read is, a write too: it cannot be made
        // twice by an attempt Atlassian never received.
        if ((idempotent || sentNothing) && attempt < o.maxRetries && fitsDeadline(wait)) {
          await o.sleep(wait);
          o.onRetry?.(outcome.sentNothing ? 'unsent' : outcome.failure);
          continue;
        }
        if (timedOut && pageBound) throw pageTimedOut(outcome.cause);
        // A timeout whose every attempt was still connecting (a TLS handshake that never ended, a
        // connect unanswered) sent nothing either: a timeout, and not done (ADR 0402).
        throw new AtlassianError(timedOut ? 'ATLASSIAN_TIMEOUT' : 'ATLASSIAN_UNREACHABLE', 0, {
          cause: outcome.cause,
          ...(sentNothing ? { sentNothing } : {}),
        });
      }
      const { response, text } = outcome;
      const throttled = response.status === 429 || response.status === 503;
      const asked = throttled ? retryAfterMs(response.headers.get('retry-after')) : undefined;
      // Retry-After is honoured or the call gives up: asking again sooner than Atlassian said would
      // only be refused again (and counts against the site's quota).
      const wait = asked ?? backoffMs(attempt, o);
      if (throttled && idempotent && attempt < o.maxRetries && wait <= o.maxDelayMs && fitsDeadline(wait)) {
        await o.sleep(wait);
        o.onRetry?.(String(response.status));
        continue;
      }
      const report = (parsed: unknown) =>
        o.onExchange?.({
          method,
          path: this.url(path, options.query).slice(o.siteUrl.length),
          status: response.status,
          ...(options.json !== undefined ? { requestBody: options.json } : {}),
          ...(parsed !== undefined ? { responseBody: parsed } : {}),
          requestHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
          responseHeaders: headerRecord(response.headers),
        });
      if (text === undefined) {
        // A body the caller streams on (a download): the call is seen, its body is not.
        report(undefined);
        return response as T;
      }
      let parsed: unknown;
      let json = true;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        json = false;
      }
      report(parsed);
      if (response.ok && !json) {
        // Something answered in Atlassian's place (a proxy's sign-in page, a site's maintenance
        // page) or the body broke: a refusal of ours, never its words (they may name people), and
        // not asked again (ADR 0267). Before, every caller took it for an empty answer: a 500.
        throw new AtlassianError('ATLASSIAN_ERROR', response.status, {
          message: `Atlassian answered ${response.status} with a body that is no JSON`,
        });
      }
      if (response.ok && options.noContent && response.status !== 204) {
        // Not the write's answer: a refusal of ours, as an answer of another shape is (ADR 0296).
        throw new AtlassianError('ATLASSIAN_ERROR', response.status, {
          message: `Atlassian answered ${response.status} where the write answers 204 No Content`,
        });
      }
      const mismatch = response.ok && options.shape ? shapeMismatch(parsed, options.shape) : undefined;
      if (mismatch !== undefined) {
        // JSON, but not what the read is (`null`, an empty body, an array for an object, a page
        // without its list): as a body that is no JSON, a refusal of ours, not asked again (ADR 0275).
        throw new AtlassianError('ATLASSIAN_ERROR', response.status, {
          message: `Atlassian answered ${response.status} with JSON of another shape: ${mismatch}`,
        });
      }
      if (!response.ok) {
        // A write is retried above this layer, under its write key (portal/write-once.ts), which
        // waits Atlassian's Retry-After when it fits its budget.
        throw new AtlassianError(codeForStatus(response.status), response.status, {
          ...parseErrorBody(parsed),
          ...(asked === undefined ? {} : { retryAfterMs: asked }),
        });
      }
      return parsed as T;
    }
  }

  /**
   * One HTTP attempt, inside a bulkhead slot: the answer with its body read (`text`), or the
   * headers only for a successful raw call (the caller streams the body), or why there was none.
   */
  async #attempt(
    method: string,
    path: string,
    url: string,
    headers: Record<string, string>,
    body: string | FormData | undefined,
    timeoutMs: number,
    { raw, maxResponseBytes, seeOther }: CallOptions,
  ): Promise<
    | { failure?: undefined; response: Response; text: string | undefined }
    | { failure: CallFailure; sentNothing: boolean; cause: unknown }
  > {
    const o = this.#options;
    // A call whose answer is read here goes as a single exchange (createTlsFetch takes
    // `redirect: 'manual'` for that, ADR 0169): a fraction of fetch's CPU and garbage. Its redirect is refused below, as
    // `redirect: 'error'` refuses it. A body the caller streams on keeps fetch's streaming path,
    // which refuses the redirect itself; either way nothing is sent to the Location, but for a
    // download's 303 (`seeOther`, below).
    const readHere = !raw;
    const followsSeeOther = raw === true && seeOther === true;
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    // A form's files are read from the disk as they are sent. Atlassian may answer before it has
    // read them (a 503 at once), and fetch would go on sending, the file open, until the connection
    // closes (ADR 0262): once the answer is here, what is left of the form is dropped with the
    // connection. A form Atlassian read whole has nothing left to drop.
    const form = body instanceof FormData ? new AbortController() : undefined;
    // One deadline for the headers and the body, gone once the body is read (ADR 0163).
    const exchange = exchangeSignal([form?.signal], timeoutMs);
    let bodyHandedOn = false;
    const send = async (
      to: string,
      sentMethod: string,
      sentHeaders: Record<string, string>,
      sentBody?: string | FormData,
    ) => {
      let unsent = false;
      try {
        return await (o.fetch ?? globalThis.fetch)(to, {
          method: sentMethod,
          headers: readHere ? { 'accept-encoding': ACCEPTED_CODINGS, ...sentHeaders } : sentHeaders,
          ...(sentBody === undefined ? {} : { body: sentBody }),
          signal: exchange.signal,
          redirect: readHere || followsSeeOther ? 'manual' : 'error',
          // A See Other's own body is never read: the file's bound is put on the answer it leads to.
          ...(followsSeeOther ? { streamed: true, maxResponseBytes: Number.POSITIVE_INFINITY } : {}),
          ...(maxResponseBytes === undefined || followsSeeOther ? {} : { maxResponseBytes }),
          onUnsent: () => {
            unsent = true;
          },
        });
      } catch (err) {
        if (outboundBoundMet(err)) throw err;
        const failure = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
        // Never handed to a connection (refused, a name not found, a TLS handshake failed, or still
        // connecting when the deadline passed): nothing of it reached Atlassian (ADRs 0397, 0402).
        // A See Other's hop not sent follows a request that was.
        const sentNothing = unsent && to === url;
        o.onCall?.(method, path, sentNothing ? 'unsent' : failure, elapsed());
        return { failure, sentNothing, cause: err } as const;
      }
    };
    try {
      let response = await send(url, method, headers, body);
      if (!(response instanceof Response)) return response;
      for (let hop = 0, at = url; followsSeeOther && response.status === 303 && hop < SEE_OTHER_HOPS; hop++) {
        await response.body?.cancel();
        o.onCall?.(method, path, 303, elapsed());
        const target = seeOtherTarget(response.headers.get('location'), at, o.siteUrl);
        if (!target)
          return {
            failure: 'network',
            sentNothing: false,
            cause: new Error('303 without a usable Location'),
          };
        at = target.href;
        // A 303 is followed with a GET (RFC 9110 15.4.4). The service account's credentials go to the
        // site only: a file store's URL carries its own.
        const onSite = target.origin === new URL(o.siteUrl).origin;
        const next = await send(at, 'GET', onSite ? headers : { accept: headers['accept'] ?? '*/*' });
        if (!(next instanceof Response)) return next;
        response = next;
      }
      if (followsSeeOther)
        response = boundedResponse(response, maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
      if ((readHere || followsSeeOther) && REDIRECT_STATUSES.has(response.status)) {
        // What `redirect: 'error'` makes of it: a network failure (retried like one, then
        // ATLASSIAN_UNREACHABLE), its Location never asked for.
        await response.body?.cancel();
        o.onCall?.(method, path, 'network', elapsed());
        return {
          failure: 'network',
          sentNothing: false,
          cause: new Error(`unexpected redirect (${response.status})`),
        };
      }
      o.onCall?.(method, path, response.status, elapsed());
      if (raw && response.ok) {
        // The caller reads the body (a download streamed on): the deadline holds until it ends.
        bodyHandedOn = true;
        return { response: releasedWithBody(response, exchange), text: undefined };
      }
      try {
        return { response, text: await response.text() };
      } catch (err) {
        if (outboundBoundMet(err)) throw err;
        // The headers came within the timeout but the body did not (or the connection broke).
        const failure = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
        return { failure, sentNothing: false, cause: err };
      }
    } finally {
      form?.abort(new DOMException('the exchange is over: nothing more of the form is sent', 'AbortError'));
      if (!bodyHandedOn) exchange.release();
    }
  }
}
