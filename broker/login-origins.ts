import type { Backend } from './backends/backend.js';

/** What the choice page reads of an IdP for its CSP: its name and its login origin. */
type OriginSource = Pick<Backend, 'idp' | 'loginOrigin'>;

/**
 * The origins the choice page's CSP form-action names, one per IdP (Chromium also checks the redirect
 * that answers the form): each IdP's login origin, which needs its discovery document or metadata.
 * A page waits `waitMs` at most for each; an IdP whose read takes longer (down behind a proxy that
 * holds the request, or an IdP slowing the others on purpose) is left out of that page and of later
 * pages while that read is still under way, so one IdP costs the tenant's pages at most one wait per
 * read, not the IdP deadline on every page whichever IdP the person wants (ADR 0237). The read goes on
 * in the background and, once it succeeds, the IdP's origin is on the next page.
 */
export function loginOrigins(backends: readonly OriginSource[], waitMs: number): () => Promise<string[]> {
  /** The IdPs whose read a page stopped waiting for, while that read is under way. */
  const lingering = new Set<string>();
  const originOf = async (backend: OriginSource): Promise<string | undefined> => {
    if (lingering.has(backend.idp)) return undefined;
    // loginOrigin answers undefined for an IdP it cannot read; the catch is for one that throws.
    const read = backend.loginOrigin().catch(() => undefined);
    const origin = await settledWithin(read, waitMs);
    if (origin === LATE) {
      lingering.add(backend.idp);
      void read.finally(() => lingering.delete(backend.idp));
      return undefined;
    }
    return origin;
  };
  return async () => {
    const origins = await Promise.all(backends.map(originOf));
    return [...new Set(origins.filter((o) => o !== undefined))];
  };
}

const LATE = Symbol('late');

/** What `promise` resolves to if it does within `ms`, else LATE; it is not cancelled. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(resolve, ms, LATE);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
