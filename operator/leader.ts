import { exchangeSignal } from '../common/exchange-signal.js';
import { ApiError, isConflict, type KubeClient } from '../common/kube/client.js';
import { sleep } from '../common/kube/informer.js';
import type { Logger } from '../common/log.js';
import type { OperatorReason } from './errors.js';
import { collectionPath, KINDS, objectPath } from './kube/kinds.js';

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews the
 * lease every `retryPeriodMs`; others take it over once they have seen it unchanged for its
 * duration. Expiry is measured on this process's own monotonic clock from the moment it observed
 * the current record, never by comparing the holder's renewTime with the local wall clock: nodes'
 * clocks differ, and a standby whose clock runs ahead would otherwise take a lease that is being
 * renewed. Updates carry the resourceVersion they read, so two candidates can never both win. A
 * leader that cannot renew within `renewDeadlineMs` (on the same monotonic clock), or that reads
 * another holder in the lease, reports the loss; the operator then stops and exits, so that two
 * replicas never reconcile at once.
 */
export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Wall clock written into renewTime/acquireTime, for people reading the Lease (tests skew it). */
  wallClock?: () => Date;
  /** Monotonic milliseconds that expiry and the renew deadline are measured on. */
  monotonicMs?: () => number;
}

/** How long a stop waits to hand the lease back: one read and one write of an answering API server. */
export const LEASE_RELEASE_MS = 5_000;

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export class LeaderElector {
  private readonly options: Required<LeaderElectionOptions>;
  private readonly abort = new AbortController();
  private renewing: Promise<void> | undefined;
  /** The lease record as last read, and when (monotonic) it was first seen in that state. */
  private observed: { record: string; atMs: number } | undefined;
  /**
   * When (monotonic) this process sent the write that last acquired or renewed the lease; undefined
   * before. The send, not the answer: the API server stored the record somewhere between the two,
   * and a standby counts the lease duration from when it saw that record. Counted from a late
   * answer (a slow or congested path back), the fence outlasted the lease: a standby took over
   * while this replica still wrote (ADR 0208).
   */
  private renewedAtMs: number | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = {
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      wallClock: () => new Date(),
      monotonicMs: () => performance.now(),
      ...options,
    };
  }

  /** Resolves once this process holds the lease (or the elector is stopped: then false). */
  async acquire(): Promise<boolean> {
    const { logger, retryPeriodMs, identity } = this.options;
    logger.info({ event: 'leader.waiting', identity }, 'waiting for the leader lease');
    while (!this.abort.signal.aborted) {
      const sentAtMs = this.options.monotonicMs();
      if (await this.tryAcquireOrRenew()) {
        this.renewedAtMs = sentAtMs;
        logger.info({ event: 'leader.acquired', identity }, 'became the leader');
        return true;
      }
      await sleep(retryPeriodMs * (0.8 + Math.random() * 0.4), this.abort.signal);
    }
    return false;
  }

  /** Renews in the background; `onLost` runs once if a renewal deadline passes. */
  keepRenewing(onLost: () => void): void {
    const { retryPeriodMs, renewDeadlineMs, logger, monotonicMs } = this.options;
    this.renewing = (async () => {
      let lastRenew = this.renewedAtMs ?? monotonicMs();
      while (!this.abort.signal.aborted) {
        await sleep(retryPeriodMs, this.abort.signal);
        if (this.abort.signal.aborted) return;
        const sentAtMs = monotonicMs();
        const renewed = await this.tryAcquireOrRenew();
        // Stopped during the attempt: the stop releases the lease; that is no loss.
        if (this.abort.signal.aborted) return;
        if (renewed) {
          lastRenew = sentAtMs;
          this.renewedAtMs = sentAtMs;
        } else if (this.renewedAtMs === undefined || monotonicMs() - lastRenew > renewDeadlineMs) {
          logger.error({ event: 'leader.lost', identity: this.options.identity }, 'lost the leader lease');
          onLost();
          return;
        }
      }
    })();
  }

  /**
   * Whether this process may act as the leader now: it renewed the lease within the renew deadline
   * (on its own monotonic clock). A standby takes the lease only after seeing it unchanged for the
   * whole lease duration, longer than the deadline, so a leader that answers false here has not
   * been replaced yet; one frozen past the deadline (a stopped process, a long pause) answers false
   * when it wakes, before its renewal loop has noticed.
   */
  holds(): boolean {
    return (
      this.renewedAtMs !== undefined &&
      !this.abort.signal.aborted &&
      this.options.monotonicMs() - this.renewedAtMs <= this.options.renewDeadlineMs
    );
  }

  /**
   * Refuses every write of `client` but the Lease's own while this process does not hold the
   * lease (`holds`): a leader that wakes from a pause after a standby took over writes nothing,
   * instead of racing the new leader until its renewal loop notices. A request already sent
   * before the deadline may still land late; nothing short of fencing on the server prevents that.
   */
  fence(client: KubeClient): void {
    const lease = this.path();
    client.writeGuard = (method, path) => {
      if (path === lease || path === collectionPath(KINDS.lease, this.options.namespace)) return;
      if (!this.holds()) throw new NotLeaderError(method, path);
    };
  }

  /**
   * Stops renewing and, if still the holder, releases the lease so a standby takes over at once.
   * Bounded by `withinMs` (a stop must end inside the pod's grace period): an API server that does
   * not answer gets the lease back only by its expiry, leaseDurationSeconds after the last renewal.
   * Resolves true when the lease was released or held by another.
   */
  async release(withinMs = LEASE_RELEASE_MS): Promise<boolean> {
    this.abort.abort();
    await this.renewing;
    const signal = AbortSignal.timeout(withinMs);
    try {
      const lease = await this.read(signal);
      if (lease?.spec.holderIdentity !== this.options.identity) return true;
      lease.spec = {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(this.options.wallClock()),
      };
      await this.options.client.request('PUT', this.path(), { body: lease, signal });
      return true;
    } catch (err) {
      this.options.logger.warn(
        {
          event: 'leader.release_failed',
          reason: 'OPERATOR_LEASE_NOT_RELEASED',
          err,
          expiresInSeconds: this.options.leaseDurationSeconds,
        },
        'could not release the lease; a standby takes over when it expires',
      );
      return false;
    }
  }

  /**
   * When (monotonic) the lease was first seen as it is now. Any change of the record (a renewal,
   * a new holder) restarts the count, as client-go's observedTime does.
   */
  private observe(lease: Lease): number {
    const { holderIdentity, renewTime, acquireTime, leaseDurationSeconds, leaseTransitions } = lease.spec;
    const record = JSON.stringify([
      holderIdentity,
      renewTime,
      acquireTime,
      leaseDurationSeconds,
      leaseTransitions,
    ]);
    if (this.observed?.record !== record) this.observed = { record, atMs: this.options.monotonicMs() };
    return this.observed.atMs;
  }

  private path(): string {
    return objectPath(KINDS.lease, this.options.namespace, this.options.name);
  }

  private read(signal?: AbortSignal): Promise<Lease | undefined> {
    return this.options.client.get<Lease>(this.path(), signal ? { signal } : {});
  }

  /**
   * One attempt, given up after the renew deadline as client-go's is: an API server that stops
   * answering (a dead connection that was never reset) would otherwise hold the renewal loop in
   * this call for good, so a leader would never see its lease lost and exit, and a standby would
   * never try again.
   */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, leaseDurationSeconds, monotonicMs } = this.options;
    const now = this.options.wallClock();
    // A stop (release) ends the attempt at once: it has nothing left to win. Released at the end of the
    // attempt, not AbortSignal.any over the elector's lifetime signal, which kept every attempt's
    // signal for the elector's life when no client listened to it (ADR 0443).
    const attempt = exchangeSignal([this.abort.signal], this.options.renewDeadlineMs);
    const { signal } = attempt;
    try {
      const lease = await this.read(signal);
      if (!lease) {
        await client.create(
          collectionPath(KINDS.lease, namespace),
          {
            apiVersion: KINDS.lease.apiVersion,
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          {},
          { signal },
        );
        return true;
      }
      const holder = lease.spec.holderIdentity ?? '';
      const observedAt = this.observe(lease);
      const expired =
        monotonicMs() - observedAt > (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (holder !== identity && holder !== '' && !expired) {
        // Another replica holds it (the Lease was deleted and a standby created it first, or it was
        // edited or restored): the record is the truth, so this one stops writing now rather than at
        // its renew deadline, which let both write for up to that long (ADR 0241).
        this.renewedAtMs = undefined;
        return false;
      }
      const takeover = holder !== identity;
      lease.spec = {
        ...lease.spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        ...(takeover
          ? { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 }
          : {}),
      };
      await client.request('PUT', this.path(), { body: lease, signal });
      return true;
    } catch (err) {
      if (isConflict(err) || this.abort.signal.aborted) return false;
      this.options.logger.warn(
        { event: 'leader.renew_failed', err, status: err instanceof ApiError ? err.status : undefined },
        'lease update failed',
      );
      return false;
    } finally {
      attempt.release();
    }
  }
}

/**
 * A write refused because this process no longer holds the leader lease (LeaderElector.fence). Its
 * code is not one of FAILURE_REASONS: the reconcile fails under the reason of the refused write, with
 * this message in its own; the code is in OPERATOR_REASONS (operator/errors.ts, the README's table).
 */
export class NotLeaderError extends Error {
  readonly code: OperatorReason = 'OPERATOR_NOT_LEADER';
  constructor(method: string, path: string) {
    super(`${method} ${path} not sent: this replica no longer holds the leader lease`);
    this.name = 'NotLeaderError';
  }
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
