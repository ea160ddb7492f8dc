import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { JsmSsoError } from '../../common/errors.js';
import { callTimedOut, idpCallTimeout } from './idp-call-timeout.js';
import { KeyCopyReads } from './key-copy-reads.js';
import type { KeyReadHealth } from './key-read-health.js';

/**
 * The broker's copy of an OIDC IdP's JWKS (ADR 0151): how long it is used before it is read again
 * (the answer's Cache-Control max-age, within bounds), and what serves when that read fails (the
 * last copy read, for a bounded grace, while reads are tried again in the background: the reads
 * themselves are key-copy-reads.ts, shared with SAML metadata).
 */

/**
 * A copy is read again no sooner than this, whatever Cache-Control says (`no-cache`, `max-age=0`):
 * an IdP that asks to be read at every use would cost each sign-in a JWKS read.
 */
export const KEYS_MIN_FRESH_MS = 60 * 1000;
/**
 * ...and no later than this, whatever Cache-Control says (a day is common): a key the IdP withdrew
 * must stop being accepted soon even when no unknown key ID prompts a read (the figure ADR 0144
 * took from oauth4webapi, and the schedule when the answer says nothing).
 */
export const KEYS_MAX_FRESH_MS = 5 * 60 * 1000;
/**
 * When a read fails, the last copy read serves for up to this long after that read. The ID token
 * comes straight from the IdP's token endpoint over verified TLS (OIDC Core 3.1.3.7 would accept
 * that alone), so a key set a day old risks little; it is also the day SAML metadata serves past its read.
 */
export const KEYS_STALE_GRACE_MS = 24 * 60 * 60 * 1000;

export type KeySet = ReturnType<typeof createLocalJWKSet>;

export interface JwksCopyOptions {
  jwksUri: URL;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
  now: () => Date;
  health: KeyReadHealth;
}

export interface JwksCopy {
  /**
   * The keys to check a token with now. A copy past its freshness is read again first, so a key the
   * IdP withdrew is refused; if that read fails, the copy serves until its grace ends.
   */
  current(): Promise<KeySet>;
  /** Reads the keys now, or joins the read under way; refuses when the read fails. */
  reread(): Promise<KeySet>;
  /** Whether a read is under way. */
  readonly reading: boolean;
  /** Whether the last read failed: what the IdP publishes now is not known. */
  readonly failing: boolean;
}

interface Copy {
  keys: KeySet;
  /** Until when it is used without being read again. */
  freshUntil: number;
  /** Until when it may serve while reads fail. */
  usableUntil: number;
}

export function jwksCopy(options: JwksCopyOptions): JwksCopy {
  const now = () => options.now().getTime();
  const reads = new KeyCopyReads({ read: () => readJwks(options), now: options.now, health: options.health });

  return {
    async current() {
      const at = now();
      const copy = reads.latest;
      if (copy && at < copy.freshUntil) return copy.keys;
      const stale = reads.usable(at);
      if (stale && reads.failing) {
        // Reads fail: the person does not wait for them; one is tried in the background now and then.
        reads.readInBackground(at);
        return stale.keys;
      }
      // Due while reads work, or no copy may serve: read before the check, so that a key the IdP
      // withdrew is refused; when that read fails, a copy still usable serves.
      try {
        return (await reads.read()).keys;
      } catch (err) {
        const fallback = reads.usable(now());
        if (fallback) return fallback.keys;
        throw err;
      }
    },
    async reread() {
      return (await reads.read()).keys;
    },
    get reading() {
      return reads.reading;
    },
    get failing() {
      return reads.failing;
    },
  };
}

async function readJwks(options: JwksCopyOptions): Promise<Copy> {
  const unavailable = (message: string, cause?: unknown) =>
    new JsmSsoError('OIDC_IDP_UNAVAILABLE', message, { status: 502, cause });
  let response: Response;
  let body: unknown;
  try {
    // One deadline for the answer and its body; no redirect (jose's rule for a jwks_uri too).
    response = await options.fetch(options.jwksUri, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw unavailable(`the identity provider's keys answered HTTP ${response.status}`);
    }
    body = await response.json();
  } catch (cause) {
    // The outbound client's refusal of an over-size answer (UPSTREAM_RESPONSE_TOO_LARGE) keeps its reason.
    if (cause instanceof JsmSsoError) throw cause;
    // No answer, or no end of it, within the read's deadline: the IdP slow (ADR 0441).
    if (callTimedOut(cause)) throw idpCallTimeout(cause);
    throw unavailable("the identity provider's keys cannot be read", cause);
  }
  let keys: KeySet;
  try {
    keys = createLocalJWKSet(body as JSONWebKeySet);
  } catch (cause) {
    throw unavailable("the identity provider's keys are no JSON Web Key Set", cause);
  }
  const readAt = options.now().getTime();
  return {
    keys,
    freshUntil: readAt + freshnessOf(response.headers),
    usableUntil: readAt + KEYS_STALE_GRACE_MS,
  };
}

/**
 * How long an answer may be used, from its Cache-Control max-age less its Age (RFC 9111 4.2.1;
 * s-maxage is for shared caches, the broker is not one), within [KEYS_MIN_FRESH_MS, KEYS_MAX_FRESH_MS].
 * `no-cache` and `no-store` are read as 0, hence the minimum; an answer that says nothing gets the maximum.
 */
export function freshnessOf(headers: Headers): number {
  const directives = (headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  let maxAgeSeconds: number | undefined;
  for (const directive of directives) {
    if (directive === 'no-cache' || directive === 'no-store') {
      maxAgeSeconds = 0;
      break;
    }
    const maxAge = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (maxAge) maxAgeSeconds = Number(maxAge[1]);
  }
  if (maxAgeSeconds === undefined) return KEYS_MAX_FRESH_MS;
  const age = Number(headers.get('age') ?? 0);
  const seconds = maxAgeSeconds - (Number.isFinite(age) && age > 0 ? age : 0);
  return Math.min(KEYS_MAX_FRESH_MS, Math.max(KEYS_MIN_FRESH_MS, seconds * 1000));
}
