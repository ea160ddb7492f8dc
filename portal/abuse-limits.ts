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
 * In a pool, all of a tenant's sign-in starts together are counted as well, against the tenant's
 * share of the store the pool's tenants share (common/pool/sign-in-starts.ts, ADR 0215), and on
 * Redis a start is refused while the tenant holds its share of sessions (portal/pool-session-count.ts,
 * ADR 0220).
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
 * A pool tenant's shares: at most `starts` sign-ins started within `windowSeconds` (ADR 0215) and,
 * in a pool on Redis, at most `sessions` sessions held at once (ADR 0220; a pool's memory store holds
 * a share of entries per tenant already, ADR 0197).
 */
export interface PoolSignInShare {
  starts: number;
  windowSeconds: number;
  sessions?: number;
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
const SHARE_KEY = 'starts';

function shareUsed(share: PoolSignInShare): FlowStoreTenantFullError {
  return new FlowStoreTenantFullError(`${share.starts} sign-ins started in ${share.windowSeconds} s`);
}

export class AbuseLimits {
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #hashKey: Buffer;
  readonly #poolShare: (PoolSignInShare & { limiter: RateLimiterAbstract }) | undefined;
  readonly #poolSessions: PoolSessionCount | undefined;

  /**
   * `keyMaterial`: secret material every replica shares (the portal's signing key). `poolShare`: a
   * pool tenant's share of sign-in starts (none for a dedicated portal, whose store is its own).
   */
  constructor(limits: PortalLimits, keyMaterial: string, redis?: RedisCounting, poolShare?: PoolSignInShare) {
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
    this.#poolShare = poolShare && {
      ...poolShare,
      limiter: limiterFor(
        {
          points: poolShare.starts,
          duration: poolShare.windowSeconds,
          keyPrefix: `${prefix}signInStarts:tenant`,
        },
        redis,
      ),
    };
    this.#poolSessions =
      redis && poolShare?.sessions !== undefined
        ? new PoolSessionCount(redis, poolShare.sessions)
        : undefined;
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
   * Counts one sign-in start against the pool tenant's share; throws FlowStoreTenantFullError once
   * it is used. Nothing to count for a dedicated portal.
   */
  async startSignIn(): Promise<void> {
    const share = this.#poolShare;
    if (!share) return;
    try {
      await share.limiter.consume(SHARE_KEY);
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      throw shareUsed(share);
    }
  }

  /**
   * Refuses a sign-in start at once when the tenant's share is used already, or it holds its share of
   * sessions (those it has go on; a new one would be more than its share), before the address is
   * counted: a flood past the share then writes nothing more to the store the pool's tenants share,
   * not even a counter per address (an IPv6 flood has addresses without end).
   */
  async #refuseWhenShareUsed(): Promise<void> {
    await this.#poolSessions?.refuseWhenHeld();
    const share = this.#poolShare;
    if (!share) return;
    const counted = await share.limiter.get(SHARE_KEY);
    if (counted && counted.consumedPoints >= share.starts) throw shareUsed(share);
  }

  /**
   * Express middleware: counts the request by client IP and, when signed in, by account, before
   * its body is read. Refusals go to the error handler (429, Retry-After, a page). A sign-in start
   * the address may make then counts against a pool tenant's share (503 past it).
   */
  limit(action: LimitedAction) {
    return (req: Request, res: Response, next: NextFunction) => {
      const accountId = (res.locals['session'] as { customer?: { accountId?: string } } | undefined)?.customer
        ?.accountId;
      (action === 'signInStarts' ? this.#refuseWhenShareUsed() : Promise.resolve())
        .then(() => this.consume(action, 'ip', req.ip ?? ''))
        .then(() => (accountId ? this.consume(action, 'account', accountId) : undefined))
        .then(() => (action === 'signInStarts' ? this.startSignIn() : undefined))
        .then(() => next(), next);
    };
  }
}
