// Browsers whose every exchange is bounded and written down: a chaos test sends journeys through them and
// judges afterwards what each exchange ended with. An exchange ends with an answer read whole, a cut
// connection, or, past the bound, a hang: the one ending a customer must never meet (her browser would
// spin for ever). An error page's reason code is read as the exchange ends.
import { pageReason, Browser as SignInBrowser } from './broker-harness.js';
import { Browser as PortalPages } from './portal-harness.js';

/** How one exchange ended. */
export type Ending =
  | { kind: 'answer'; status: number; reason?: string }
  | { kind: 'cut'; error: string }
  | { kind: 'hang' };

export interface Exchange {
  /** Who sent it (a journey's name). */
  by: string;
  /** Where it went (scheme, host and port). */
  origin: string;
  /** Method and path, never the query (it may carry a SAML message or a code). */
  what: string;
  ending: Ending;
}

/** The refusal's reason code a page shows: the portal's `<code data-reason>`, the broker's `<code>`. */
export function reasonOnPage(html: string): string | undefined {
  return /<code data-reason>([A-Z0-9_]+)<\/code>/.exec(html)?.[1] ?? pageReason(html);
}

export class HangError extends Error {
  constructor(what: string, boundMs: number) {
    super(`${what}: no answer within ${boundMs} ms`);
    this.name = 'HangError';
  }
}

/** The exchanges of a run, and the bound each is held to. */
export class ExchangeLog {
  readonly exchanges: Exchange[] = [];
  constructor(readonly boundMs: number) {}

  /**
   * `send`'s answer read whole within the bound, as a Response of its own (status, headers, url, body);
   * recorded as an answer, a cut (it rejected) or a hang (a HangError past the bound).
   */
  async bounded(
    by: string,
    url: string,
    method: string | undefined,
    send: () => Promise<Response>,
  ): Promise<Response> {
    const { origin, pathname } = new URL(url);
    const what = `${method ?? 'GET'} ${pathname}`;
    let timer: NodeJS.Timeout | undefined;
    const past = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HangError(what, this.boundMs)), this.boundMs);
    });
    const read = async () => {
      const answer = await send();
      return { answer, body: await answer.arrayBuffer() };
    };
    try {
      const { answer, body } = await Promise.race([read(), past]);
      const text = new TextDecoder().decode(body);
      const reason = answer.status >= 400 ? reasonOnPage(text) : undefined;
      this.exchanges.push({
        by,
        origin,
        what,
        ending: { kind: 'answer', status: answer.status, ...(reason ? { reason } : {}) },
      });
      const copy = new Response(NULL_BODY.has(answer.status) ? null : body, {
        status: answer.status,
        statusText: answer.statusText,
        headers: answer.headers,
      });
      Object.defineProperty(copy, 'url', { value: answer.url });
      return copy;
    } catch (err) {
      const ending: Ending =
        err instanceof HangError ? { kind: 'hang' } : { kind: 'cut', error: (err as Error).message };
      this.exchanges.push({ by, origin, what, ending });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** broker-harness's Browser (a cookie jar per host, for a sign-in across portal, broker and IdP), bounded. */
export class BoundedSignInBrowser extends SignInBrowser {
  constructor(
    readonly log: ExchangeLog,
    readonly by: string,
  ) {
    super();
  }

  override request(
    url: string,
    init: { method?: string; form?: Record<string, string>; via?: string } = {},
  ): Promise<Response> {
    return this.log.bounded(this.by, url, init.method ?? (init.form ? 'POST' : 'GET'), () =>
      super.request(url, init),
    );
  }
}

/** portal-harness's Browser (the portal's pages and forms), bounded, sharing a sign-in's cookies. */
export class BoundedPortalPages extends PortalPages {
  constructor(
    readonly log: ExchangeLog,
    readonly by: string,
    base: string,
    cookies: Map<string, string>,
  ) {
    super(base, cookies);
  }

  override fetch(
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = path.startsWith('http') ? path : this.base + path;
    return this.log.bounded(this.by, url, init.method, () => super.fetch(path, init));
  }
}
