/**
 * Rate limits on what an anonymous visitor or one account can make the portal do: sign-in starts,
 * ACS posts, request creation, comments, other changes to a request (transitions, participants),
 * uploads, pages read without signing in and pages read signed in (per account only), each counted
 * per client IP and (where the account is known) per account over one window
 * (`spec.portal.limits`). Counting is
 * rate-limiter-flexible's: in Redis when the tenant has one, so replicas count together, with an
 * in-process limiter as insurance while Redis is unreachable; in memory otherwise. Keys are keyed
 * hashes (HMAC with a key derived from the portal's signing key, the same in every replica): neither
 * client IPs nor e-mail addresses are written to the store, nor anything a dictionary could reverse.
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

export class AbuseLimits {
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #hashKey: Buffer;

  /** `keyMaterial`: secret material every replica shares (the portal's signing key). */
  constructor(
    limits: PortalLimits,
    keyMaterial: string,
    redis?: { client: Redis | Cluster; keyPrefix: string; commandDeadlineMs: number },
  ) {
    this.#hashKey = Buffer.from(hkdfSync('sha256', keyMaterial, 'jsm-sso-portal', 'rate-limit-keys', 32));
    for (const action of ACTIONS) {
      const perAction = limits[action] as { perIp: number; perAccount?: number };
      const scopes: [LimitScope, number | undefined][] = [
        ['ip', perAction.perIp],
        ['account', perAction.perAccount],
      ];
      for (const [scope, points] of scopes) {
        if (points === undefined) continue;
        const options = {
          points,
          duration: limits.windowSeconds,
          keyPrefix: `${redis?.keyPrefix ?? ''}portal:rate:${action}:${scope}`,
        };
        const memory = new RateLimiterMemory(options);
        this.#limiters.set(
          `${action}:${scope}`,
          redis
            ? // While Redis is away, or slower than the flow store's command deadline (its connection
              // sets none of ioredis's), each process counts on its own.
              new RLWrapperTimeouts({
                limiter: new RateLimiterRedis({
                  ...options,
                  storeClient: redis.client,
                  rejectIfRedisNotReady: true,
                }),
                timeoutMs: redis.commandDeadlineMs,
                insuranceLimiter: memory,
              })
            : memory,
        );
      }
    }
  }

  /** Counts one `action` for `who`; throws RateLimitedError once over the limit. */
  async consume(action: LimitedAction, scope: LimitScope, who: string): Promise<void> {
    const limiter = this.#limiters.get(`${action}:${scope}`);
    if (!limiter) return;
    try {
      await limiter.consume(createHmac('sha256', this.#hashKey).update(who).digest('base64url').slice(0, 32));
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      throw new RateLimitedError(action, scope, Math.max(1, Math.ceil(outcome.msBeforeNext / 1000)));
    }
  }

  /**
   * Express middleware: counts the request by client IP and, when signed in, by account, before
   * its body is read. Refusals go to the error handler (429, Retry-After, a page).
   */
  limit(action: LimitedAction) {
    return (req: Request, res: Response, next: NextFunction) => {
      const accountId = (res.locals['session'] as { customer?: { accountId?: string } } | undefined)?.customer
        ?.accountId;
      this.consume(action, 'ip', req.ip ?? '')
        .then(() => (accountId ? this.consume(action, 'account', accountId) : undefined))
        .then(() => next(), next);
    };
  }
}
