/**
 * Rate limits on what an anonymous visitor or one account can make the portal do: sign-in starts,
 * ACS posts, request creation, comments, other changes to a request (transitions, participants),
 * uploads, pages read without signing in and pages read signed in (per account only), each counted
 * per client address (an IPv6 client per /64: portal/http/address-group.ts) and, where the account is
 * known, per account over one window (`spec.portal.limits`). Counting is rate-limiter-flexible's: in
 * Redis when the tenant has one, so replicas count together, with an in-process limiter as insurance
 * while Redis is unreachable; in memory otherwise. Keys are keyed
 * hashes (HMAC with a key derived from the portal's signing key, the same in every replica): neither
 * client IPs nor e-mail addresses are written to the store, nor anything a dictionary could reverse.
 * All of a tenant's sign-in starts together are counted as well, from every address, against a
 * ceiling per flow lifetime: its own (spec.portal.limits.signInStarts.perTenant, ADR 0256) and, in a
 * pool, its share of the store the pool's tenants share (common/pool/sign-in-starts.ts, ADR 0215),
 * whichever is lower; in a pool on Redis a start is also refused while the tenant holds its share of
 * sessions (portal/pool-session-count.ts, ADR 0220).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Cluster, Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';
import type { PortalSpec } from '../common/config/tenant.generated.js';
import { JsmSsoError } from '../common/errors.js';
import { FlowStoreTenantFullError } from '../common/flowstore/index.js';
import { POOL_SIGN_IN_STARTS_PER_TENANT } from '../common/pool/sign-in-starts.js';
import { addressGroup } from './http/address-group.js';
import { PoolSessionCount } from './pool-session-count.js';

export type PortalLimits = PortalSpec['limits'];
export type LimitedAction =
  | 'signInStarts'
  | 'acsPosts'
  | 'requestCreations'
  | 'comments'
  | 'requestChanges'
  | 'uploads'
  | 'anonymousPages'
  | 'signedInPages';
export type LimitScope = 'ip' | 'account';

/**
 * The tenant has started as many sign-ins as its own ceiling lets within one flow lifetime (ADR
 * 0256): a flood from many addresses, each under its own limit. 503 rather than 429: the client is
 * not the one at fault, and the answer is the full store's (Retry-After, "try again in a minute").
 */
export class SignInStartsFullError extends JsmSsoError {
  constructor(starts: number, windowSeconds: number) {
    super(
      'PORTAL_SIGN_IN_STARTS_FULL',
      `this tenant started ${starts} sign-ins in ${windowSeconds} s, its spec.portal.limits.signInStarts.perTenant`,
      { status: 503 },
    );
    this.name = 'SignInStartsFullError';
  }
}

export class RateLimitedError extends JsmSsoError {
  readonly retryAfterSeconds: number;
  readonly action: LimitedAction;
  readonly scope: LimitScope;
  constructor(action: LimitedAction, scope: LimitScope, retryAfterSeconds: number) {
    super(
      'PORTAL_RATE_LIMITED',
      `too many ${action} from this ${scope === 'ip' ? 'address' : 'account'}; retry after ${retryAfterSeconds} s`,
      { status: 429, params: { seconds: retryAfterSeconds } },
    );
    this.name = 'RateLimitedError';
    this.action = action;
    this.scope = scope;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const ACTIONS: readonly LimitedAction[] = [
  'signInStarts',
  'acsPosts',
  'requestCreations',
  'comments',
  'requestChanges',
  'uploads',
  'anonymousPages',
  'signedInPages',
];

/**
 * A tenant's ceiling on sign-ins: at most `starts` started within `windowSeconds` (one flow
 * lifetime), whose refusal says who set it (`pool`: its share of a pool's store, ADR 0215,
 * FLOW_STORE_TENANT_FULL; `tenant`: its own perTenant, ADR 0256, PORTAL_SIGN_IN_STARTS_FULL) and, in
 * a pool on Redis, at most `sessions` sessions held at once (ADR 0220; a pool's memory store holds a
 * share of entries per tenant already, ADR 0197).
 */
export interface SignInCeiling {
  starts: number;
  windowSeconds: number;
  setBy: 'pool' | 'tenant';
  sessions?: number;
}

/**
 * The starts a tenant may make: its own `perTenant`, or the default when it set none (the pool's
 * default share, for the same reasons: ADR 0215); in a pool, its share when that is lower, or when
 * the tenant set none (a pool's operator may give a tenant more than the default).
 */
export function signInStartsCeiling(
  perTenant: number | undefined,
  poolShare: number | undefined,
): Pick<SignInCeiling, 'starts' | 'setBy'> {
  if (poolShare !== undefined && (perTenant === undefined || poolShare <= perTenant))
    return { starts: poolShare, setBy: 'pool' };
  return { starts: perTenant ?? POOL_SIGN_IN_STARTS_PER_TENANT.default, setBy: 'tenant' };
}

interface LimiterOptions {
  points: number;
  duration: number;
  keyPrefix: string;
}

type RedisCounting = { client: Redis | Cluster; keyPrefix: string; commandDeadlineMs: number };

/**
 * Counting in Redis when there is one, so replicas count together; while Redis is away, or slower
 * than the flow store's command deadline (its connection sets none of ioredis's), each process
 * counts on its own.
 */
function limiterFor(options: LimiterOptions, redis: RedisCounting | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  if (!redis) return memory;
  return new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({ ...options, storeClient: redis.client, rejectIfRedisNotReady: true }),
    timeoutMs: redis.commandDeadlineMs,
    insuranceLimiter: memory,
  });
}

/** The one counter of a tenant's sign-in starts, under the tenant's own key prefix. */
const CEILING_KEY = 'starts';

function ceilingReached({ starts, windowSeconds, setBy }: SignInCeiling): JsmSsoError {
  return setBy === 'pool'
    ? new FlowStoreTenantFullError(`${starts} sign-ins started in ${windowSeconds} s`)
    : new SignInStartsFullError(starts, windowSeconds);
}

export class AbuseLimits {
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #hashKey: Buffer;
  readonly #ceiling: (SignInCeiling & { limiter: RateLimiterAbstract }) | undefined;
  readonly #poolSessions: PoolSessionCount | undefined;

  /**
   * `keyMaterial`: secret material every replica shares (the portal's signing key). `ceiling`: the
   * tenant's ceiling on sign-ins (signInStartsCeiling; none counts no starts together).
   */
  constructor(limits: PortalLimits, keyMaterial: string, redis?: RedisCounting, ceiling?: SignInCeiling) {
    this.#hashKey = Buffer.from(hkdfSync('sha256', keyMaterial, 'jsm-sso-portal', 'rate-limit-keys', 32));
    const prefix = `${redis?.keyPrefix ?? ''}portal:rate:`;
    for (const action of ACTIONS) {
      const perAction = limits[action] as { perIp: number; perAccount?: number };
      const scopes: [LimitScope, number | undefined][] = [
        ['ip', perAction.perIp],
        ['account', perAction.perAccount],
      ];
      for (const [scope, points] of scopes) {
        if (points === undefined) continue;
        const options = { points, duration: limits.windowSeconds, keyPrefix: `${prefix}${action}:${scope}` };
        this.#limiters.set(`${action}:${scope}`, limiterFor(options, redis));
      }
    }
    this.#ceiling = ceiling && {
      ...ceiling,
      limiter: limiterFor(
        {
          points: ceiling.starts,
          duration: ceiling.windowSeconds,
          keyPrefix: `${prefix}signInStarts:tenant`,
        },
        redis,
      ),
    };
    this.#poolSessions =
      redis && ceiling?.sessions !== undefined ? new PoolSessionCount(redis, ceiling.sessions) : undefined;
  }

  /** Counts a pool tenant's session that ends by `endsAt` at the latest against its share (ADR 0220). */
  async sessionStarted(endsAt: number): Promise<void> {
    await this.#poolSessions?.add(endsAt);
  }

  /**
   * Counts one `action` for `who` (a client address, counted by addressGroup: an IPv6 client's /64;
   * or an account id); throws RateLimitedError once over the limit.
   */
  async consume(action: LimitedAction, scope: LimitScope, who: string): Promise<void> {
    const limiter = this.#limiters.get(`${action}:${scope}`);
    if (!limiter) return;
    const counted = scope === 'ip' ? addressGroup(who) : who;
    try {
      await limiter.consume(
        createHmac('sha256', this.#hashKey).update(counted).digest('base64url').slice(0, 32),
      );
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      throw new RateLimitedError(action, scope, Math.max(1, Math.ceil(outcome.msBeforeNext / 1000)));
    }
  }

  /**
   * Counts one sign-in start against the tenant's ceiling; throws FlowStoreTenantFullError (a pool's
   * share) or SignInStartsFullError (its own) once it is reached.
   */
  async startSignIn(): Promise<void> {
    const ceiling = this.#ceiling;
    if (!ceiling) return;
    try {
      await ceiling.limiter.consume(CEILING_KEY);
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      throw ceilingReached(ceiling);
    }
  }

  /**
   * Refuses a sign-in start at once when the tenant's ceiling is reached already, or it holds its
   * pool share of sessions (those it has go on; a new one would be more than its share), before the
   * address is counted: a flood past the ceiling then writes nothing more to the store, not even a
   * counter per address (an IPv6 flood has addresses without end).
   */
  async #refuseWhenCeilingReached(): Promise<void> {
    await this.#poolSessions?.refuseWhenHeld();
    const ceiling = this.#ceiling;
    if (!ceiling) return;
    const counted = await ceiling.limiter.get(CEILING_KEY);
    if (counted && counted.consumedPoints >= ceiling.starts) throw ceilingReached(ceiling);
  }

  /**
   * Express middleware: counts the request by client IP and, when signed in, by account, before
   * its body is read. Refusals go to the error handler (429, Retry-After, a page). A sign-in start
   * the address may make then counts against the tenant's ceiling (503 past it). An ACS post's
   * account is the one its Response asserts, counted once that is verified (routes/saml.ts), not the
   * session the browser may hold: the ACS takes posts from other sites, and a page of the same site
   * posts with that session's cookie (ADR 0262).
   */
  limit(action: LimitedAction) {
    return (req: Request, res: Response, next: NextFunction) => {
      const session = action === 'acsPosts' ? undefined : res.locals['session'];
      const accountId = (session as { customer?: { accountId?: string } } | undefined)?.customer?.accountId;
      (action === 'signInStarts' ? this.#refuseWhenCeilingReached() : Promise.resolve())
        .then(() => this.consume(action, 'ip', req.ip ?? ''))
        .then(() => (accountId ? this.consume(action, 'account', accountId) : undefined))
        .then(() => (action === 'signInStarts' ? this.startSignIn() : undefined))
        .then(() => next(), next);
    };
  }
}
