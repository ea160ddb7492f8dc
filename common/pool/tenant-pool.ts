import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import { tenantId as idOf } from '../config/load.js';
import { type ErrorCode, JsmSsoError } from '../errors.js';
import type { FlowStore } from '../flowstore/index.js';
import { LONGEST_WORK_AFTER_ARRIVAL_MS } from '../http/request-time.js';
import { setSecurityHeaders } from '../http/security-headers.js';
import type { Logger } from '../log.js';
import { dropTenantSeries } from '../metrics.js';
import type { BuildPart, PartInstance, PartName } from '../runtime.js';
import {
  readSigningCertificateExpiry,
  type SigningCertificateExpiry,
  type SigningTenant,
} from '../signing-certificate-metrics.js';
import type { OutboundRules } from '../tls/index.js';
import {
  type BuiltPartLimits,
  BuiltParts,
  DEFAULT_BUILT_PART_LIMITS,
  type ReleaseReason,
} from './built-parts.js';
import { byClaim, byServerNameClaim, type Claim, claimsBefore, hostClaimedAt } from './claims.js';
import { requestHost, serverNameKey, urlHostKey, urlServerName } from './host-routing.js';
import type { PoolSignInShares } from './sign-in-starts.js';
import type { GoneIncarnation, TenantBundle, TenantSourceListener } from './source.js';
import type { UploadSpoolBudget } from './upload-spool-budget.js';

/** The store a pool shares: one connection, one view per tenant (the same keys a dedicated part uses). */
export interface PoolFlowStore {
  /** Tenant `tenant`'s keys; with `uid`, those of that incarnation of it alone (ADR 0371). */
  view(tenant: string, uid?: string): FlowStore;
  /** Forgets what the store counts of a tenant that left, for the metrics (the memory store's; ADR 0367). */
  forgetCounts?(tenant: string): void;
  /** Deletes the keys of incarnation `uid` of `tenant`, gone for good; how many (ADR 0390). */
  purge(tenant: string, uid: string): Promise<number>;
}

export interface TenantPoolOptions {
  part: PartName;
  build: BuildPart;
  store: PoolFlowStore;
  registry: Registry;
  /** The pool's logger; each tenant's part logs through a child carrying `tenant`. */
  logger: Logger;
  trustedProxyHops?: number;
  /** What every tenant's outbound calls may reach (PartContext.outbound). */
  outbound?: OutboundRules;
  /**
   * How long a replaced or removed tenant's part is kept after its last request in flight has ended,
   * for work its customers left behind (a write whose customer closed the tab) before it is closed.
   */
  retireAfterMs?: number;
  /** How many built parts are kept, and how long unused (default DEFAULT_BUILT_PART_LIMITS). */
  builtParts?: BuiltPartLimits;
  /** A portal pool's: the upload bytes every tenant's part shares (ADR 0165). */
  uploadSpoolBudget?: UploadSpoolBudget;
  /** A portal pool's: each tenant's shares of sign-in starts and sessions (ADRs 0215, 0220). */
  signInShares?: PoolSignInShares;
  /** Requests one tenant may have under way at once in this process (default POOL_TENANT_REQUESTS_IN_FLIGHT). */
  maxInFlightPerTenant?: number;
}

/**
 * Requests one tenant may have under way at once in one pool process (ADR 0223). The process's CPU
 * and memory are every tenant's: a flood of one tenant's pages from many addresses (which no
 * per-address limit stops) queued its requests without end, each rendered in turn, and every other
 * tenant's waited behind them. Past this the tenant's requests are answered at once with 503 and
 * Retry-After, for a small part of what serving them costs, and the others are served. Ample for a
 * tenant's real load: its 200 downloads streaming at once (ADR 0221) and 56 more.
 */
export const POOL_TENANT_REQUESTS_IN_FLIGHT = 256;

/** The refusal counter, one per registry (a process's parts may share one). */
function busyRefusals(registry: Registry): Counter<'tenant'> {
  const name = 'jsm_sso_pool_tenant_busy_refusals_total';
  return (
    (registry.getSingleMetric(name) as Counter<'tenant'> | undefined) ??
    new Counter({
      name,
      help: 'Requests a pool process answered 503 POOL_TENANT_BUSY because their tenant had as many under way as one may (ADR 0223), by tenant (a series only for a tenant refused).',
      labelNames: ['tenant'],
      registers: [registry],
    })
  );
}

/** One tenant as the pool holds it: its parsed bundle, and its part while it is built. */
interface Member {
  bundle: TenantBundle;
  id: string;
  host: string;
  /** The host without its port: what a TLS client names (SNI). */
  serverName: string;
  /** Its bundle's claim on `host`. */
  claim: Claim;
  part?: Promise<PartInstance>;
  /** Requests routed to it whose response has not closed yet. */
  inFlight: number;
  /** Its signing certificates' notAfter, parsed at the first scrape after the bundle arrived. */
  signingExpiry?: SigningCertificateExpiry;
  /** Its incarnation is gone (deleted, or replaced by another uid): its keys go once its part is closed. */
  gone?: true;
}

/**
 * The tenants of one pool process and the handler that serves them all (ADR 0100). Tenants are data:
 * a member costs its parsed bundle until its first request builds its part (the same broker or
 * portal a dedicated process runs, on a view of the pool's flow store and with the pool's metrics
 * registry); a changed bundle is built afresh on its next request, and a removed tenant answers 404
 * at once. A replaced or removed tenant's part is closed once the requests it was serving have ended
 * (a download at the customer's pace included: a rotated secret does not cut it), and a grace after.
 * Parts unused for the idle period, or the least recently used beyond the limit, are released and
 * built again on their next request (ADR 0123): flow state lives in the store, so a sign-in under way
 * survives.
 */
export class TenantPool implements TenantSourceListener {
  readonly #options: TenantPoolOptions;
  readonly #byKey = new Map<string, Member>();
  readonly #byHost = new Map<string, Member>();
  readonly #byId = new Map<string, Member>();
  /**
   * Requests under way per tenant, whichever of its members serves them: a changed bundle makes a new
   * member while the retiring one's requests go on, and a count per member gave each edit or rotated
   * Secret a fresh allowance (ADR 0223, 0229).
   */
  readonly #inFlightByTenant = new Map<string, number>();
  /** By TLS server name: tenants sharing a host name on different ports, earliest claim first (claims.ts:byServerNameClaim). */
  readonly #byServerName = new Map<string, Member[]>();
  /** Bundles refused for a host or name an earlier claim holds (POOL_TENANT_CONFLICT), by key: served once it is free. */
  readonly #waiting = new Map<string, TenantBundle>();
  /**
   * Replaced or removed tenants whose part is still open: waiting for their requests in flight to end
   * (no timer yet), then for their grace (its timer). Each is closed when its timer fires, or at close().
   */
  readonly #retiring = new Map<Member, NodeJS.Timeout | undefined>();
  readonly #built: BuiltParts<Member>;
  readonly #busyRefusals: Counter<'tenant'>;

  constructor(options: TenantPoolOptions) {
    this.#options = options;
    this.#busyRefusals = busyRefusals(options.registry);
    this.#built = new BuiltParts(options.builtParts ?? DEFAULT_BUILT_PART_LIMITS, (member, reason) =>
      this.#release(member, reason),
    );
  }

  /** Tenants whose part is built now (or failed to build and is kept). */
  get builtCount(): number {
    return this.#built.size;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Each tenant's signing-certificate expiry, for the gauge: read and parsed once per bundle, since
   * a rotated certificate arrives as a changed bundle (a new member).
   */
  *signingCertificates(): Iterable<SigningTenant> {
    const { part } = this.#options;
    for (const member of this.#byKey.values()) {
      member.signingExpiry ??= readSigningCertificateExpiry(
        part,
        member.bundle.tenant,
        member.bundle.secrets,
      );
      yield { tenantId: member.id, expiry: member.signingExpiry };
    }
  }

  upsert(bundle: TenantBundle): void {
    this.#waiting.delete(bundle.key);
    this.#admit(bundle, { quiet: false });
  }

  remove(key: string, gone?: GoneIncarnation): void {
    this.#waiting.delete(key);
    const member = this.#byKey.get(key);
    if (!member) return;
    this.#forget(member, { gone: gone !== undefined && gone.uid === member.bundle.uid });
    this.#options.logger.info({ event: 'pool.tenant_removed', tenant: member.id }, 'tenant removed');
    this.#admitWaiting();
    this.#dropSeriesIfGone(member.id);
  }

  /**
   * Removes tenant `id`'s series from the registry, and the store's counts some are made of, unless a
   * bundle of that name serves (a waiting one may have taken its place): at its removal, and again as
   * each retired part of it closes, since a request it was serving counts on after the removal (ADR 0367).
   */
  #dropSeriesIfGone(id: string): void {
    if (this.#byId.has(id)) return;
    const { registry, logger, store } = this.#options;
    store.forgetCounts?.(id);
    dropTenantSeries(registry, id).catch((err: unknown) =>
      logger.warn(
        { event: 'pool.tenant_series_kept', tenant: id, err },
        "a removed tenant's metric series could not be read to be removed; they stay until the process restarts",
      ),
    );
  }

  /**
   * Serves `bundle` unless another bundle's earlier claim holds its host or tenant name (two bundles
   * of one name would share flow-store keys and metric series; two of one host, requests). Either
   * way the earlier claim is the one served, so every replica, whatever order its source delivered
   * them in, serves the same tenant at a host: a later claim never takes a host over, and waits for
   * it (ADR 0193). A host is ranked by when each tenant first named it, not by when the tenant was
   * placed, so moving a URL onto a served host is a later claim of it (ADR 0230). Whether `bundle`
   * is served; `quiet` for a waiting bundle tried again.
   */
  #admit(bundle: TenantBundle, { quiet }: { quiet: boolean }): boolean {
    const { logger, part } = this.#options;
    const id = idOf(bundle.tenant);
    const { host, claim } = this.#hostClaimOf(bundle);
    const other = (holder: Member | undefined) =>
      holder !== undefined && holder.bundle.key !== bundle.key ? holder : undefined;
    const hostHolder = other(this.#byHost.get(host));
    const nameHolder = other(this.#byId.get(id));
    const holders = new Set([hostHolder, nameHolder].filter((holder) => holder !== undefined));
    const earlier =
      (hostHolder && !claimsBefore(claim, hostHolder.claim) ? hostHolder : undefined) ??
      (nameHolder && !claimsBefore(bundle, nameHolder.bundle) ? nameHolder : undefined);
    if (earlier) {
      this.#waiting.set(bundle.key, bundle);
      if (!quiet)
        this.#refused(
          bundle.key,
          conflict(`tenant ${id} at ${host} waits: tenant ${earlier.id} at ${earlier.host} claimed first`),
          id,
        );
      if (this.#rankKept(bundle)) this.#admitWaiting();
      return false;
    }
    for (const holder of holders) {
      this.#forget(holder);
      // A newer bundle of the holder's that waits already is the one to serve once it may.
      if (!this.#waiting.has(holder.bundle.key)) this.#waiting.set(holder.bundle.key, holder.bundle);
      this.#refused(
        holder.bundle.key,
        conflict(`tenant ${holder.id} at ${holder.host} waits: tenant ${id} at ${host} claimed first`),
        holder.id,
      );
    }
    const previous = this.#byKey.get(bundle.key);
    // Another uid under the same key: the tenant was deleted and re-created, its predecessor gone.
    if (previous) this.#forget(previous, { gone: replacedIncarnation(previous.bundle, bundle) });
    const member: Member = {
      bundle,
      id,
      host,
      serverName: urlServerName(bundle.tenant.spec[part].url),
      claim,
      inFlight: 0,
    };
    this.#byKey.set(bundle.key, member);
    this.#byHost.set(host, member);
    this.#byId.set(id, member);
    this.#rankByServerName(member);
    logger.info(
      { event: previous ? 'pool.tenant_changed' : 'pool.tenant_added', tenant: id, host },
      previous ? 'tenant changed' : 'tenant added',
    );
    // A host or name given up (a changed tenant's old one, a displaced holder's other one).
    if (previous || holders.size > 0) this.#admitWaiting();
    return true;
  }

  /** Puts `member` among the tenants of its server name, in rank (claims.ts:byServerNameClaim). */
  #rankByServerName(member: Member): void {
    const named = (this.#byServerName.get(member.serverName) ?? []).filter((served) => served !== member);
    const after = named.findIndex((served) => byServerNameClaim(member.claim, served.claim) < 0);
    named.splice(after === -1 ? named.length : after, 0, member);
    this.#byServerName.set(member.serverName, named);
  }

  /**
   * The version a refused `bundle` replaces serves on at its host, but only on the claim `bundle`
   * still makes on that host: a host the tenant no longer names (it moved its URL onto a held one)
   * is claimed by none of its bundles, and goes to the tenant that names it, as the operator
   * reports (ADR 0230). Whether the kept version's claim changed.
   */
  #rankKept(bundle: TenantBundle): boolean {
    const kept = this.#byKey.get(bundle.key);
    if (!kept) return false;
    const claimedAt = hostClaimedAt(bundle, this.#options.part, kept.host);
    if (claimedAt === kept.claim.claimedAt) return false;
    kept.claim = { key: bundle.key, ...(claimedAt === undefined ? {} : { claimedAt }) };
    this.#rankByServerName(kept);
    return true;
  }

  /** The host `bundle` is served at in this pool's part, and its claim on that host. */
  #hostClaimOf(bundle: TenantBundle): { host: string; claim: Claim } {
    const host = urlHostKey(bundle.tenant.spec[this.#options.part].url);
    const claimedAt = hostClaimedAt(bundle, this.#options.part, host);
    return { host, claim: { key: bundle.key, ...(claimedAt === undefined ? {} : { claimedAt }) } };
  }

  /** Tries the waiting bundles again, earliest claim first, once a host or name may have been freed. */
  #admitWaiting(): void {
    const waiting = [...this.#waiting.values()]
      .map((bundle) => ({ bundle, claim: this.#hostClaimOf(bundle).claim }))
      .sort((a, b) => byClaim(a.claim, b.claim));
    for (const { bundle } of waiting) {
      // Admitting one may have displaced or admitted another meanwhile.
      if (this.#waiting.get(bundle.key) !== bundle) continue;
      this.#waiting.delete(bundle.key);
      this.#admit(bundle, { quiet: true });
    }
  }

  invalid(key: string, error: JsmSsoError, tenant?: string): void {
    this.#refused(key, error, this.#byKey.get(key)?.id ?? tenant);
  }

  /** Logs bundle `key` refused, naming its tenant where known; its previous version, if served, serves on. */
  #refused(key: string, error: JsmSsoError, tenant: string | undefined): void {
    const kept = this.#byKey.get(key);
    this.#options.logger.error(
      {
        event: 'pool.tenant_invalid',
        reason: error.code,
        bundle: key,
        ...(tenant === undefined ? {} : { tenant }),
        kept: kept !== undefined,
        err: error,
      },
      kept ? 'tenant bundle refused; its previous version keeps serving' : 'tenant bundle refused',
    );
  }

  readonly handler: RequestListener = (req, res) => {
    const host = requestHost(req);
    if (host.kind === 'invalid') {
      this.#refuse(req, res, 400, 'POOL_HOST_INVALID', 'the request does not name one host', {
        why: host.why,
      });
      return;
    }
    const member = host.kind === 'named' ? this.#byHost.get(host.key) : undefined;
    if (!member || host.kind !== 'named') {
      this.#refuse(req, res, 404, 'POOL_TENANT_UNKNOWN', 'no tenant is served at this address');
      return;
    }
    if (this.#namesAnotherTenant(req, member)) {
      this.#refuse(req, res, 421, 'POOL_MISDIRECTED', 'this connection was opened for another address', {
        tenant: member.id,
      });
      return;
    }
    const tenantInFlight = this.#inFlightByTenant.get(member.id) ?? 0;
    if (tenantInFlight >= (this.#options.maxInFlightPerTenant ?? POOL_TENANT_REQUESTS_IN_FLIGHT)) {
      this.#busyRefusals.inc({ tenant: member.id });
      res.setHeader('Retry-After', '1');
      this.#refuse(req, res, 503, 'POOL_TENANT_BUSY', 'this help center is busy; try again in a moment', {
        tenant: member.id,
      });
      return;
    }
    req.url = host.target;
    const part = this.#partOf(member);
    const ended = this.#built.begin(member);
    member.inFlight++;
    this.#inFlightByTenant.set(member.id, tenantInFlight + 1);
    res.once('close', () => {
      ended();
      member.inFlight--;
      const left = (this.#inFlightByTenant.get(member.id) ?? 1) - 1;
      if (left > 0) this.#inFlightByTenant.set(member.id, left);
      else this.#inFlightByTenant.delete(member.id);
      this.#closeWhenDone(member);
    });
    part.then(
      (built) => built.handler(req, res),
      (err: unknown) =>
        this.#refuse(req, res, 503, 'POOL_TENANT_UNAVAILABLE', 'this help center cannot be served', {
          tenant: member.id,
          cause: err instanceof JsmSsoError ? err.code : 'unexpected',
        }),
    );
  };

  /**
   * Whether the TLS connection under `req` was opened naming (SNI) another tenant's host than the
   * one its Host routes to: domain fronting, or a connection reused across hosts. RFC 9110 15.5.20's
   * 421 makes a browser retry on a connection of its own, and the tenant's answer (its cookies, its
   * pages) never travels under a certificate another tenant's name chose. A connection without SNI,
   * or naming no tenant (an ingress re-encrypting to the Service, a client by IP), gets the default
   * certificate and is routed by Host alone, as a plain one is.
   */
  #namesAnotherTenant(req: IncomingMessage, member: Member): boolean {
    const { servername } = req.socket as Partial<TLSSocket>;
    if (typeof servername !== 'string' || servername === '') return false;
    const named = serverNameKey(servername);
    return named !== member.serverName && this.#byServerName.has(named);
  }

  /**
   * The bundle of the tenant a TLS client names (SNI), if one is served at that host name. Of several
   * on different ports (SNI carries no port), the earliest claim of its host, so every replica serves
   * the same certificate whatever order it heard of them in (ADR 0230).
   */
  bundleForServerName(name: string): TenantBundle | undefined {
    return this.#byServerName.get(serverNameKey(name))?.[0]?.bundle;
  }

  /** Tenant `key`'s part, built now if no request has built it yet (warm-up, tests); undefined if not served. */
  partOf(key: string): Promise<PartInstance> | undefined {
    const member = this.#byKey.get(key);
    return member && this.#partOf(member);
  }

  #partOf(member: Member): Promise<PartInstance> {
    if (!member.part) {
      member.part = this.#build(member);
      this.#built.built(member);
    }
    return member.part;
  }

  /** `member`'s part, idle or beyond the limit, is closed now (no request is using it). */
  #release(member: Member, reason: ReleaseReason): void {
    const { part } = member;
    member.part = undefined;
    this.#options.logger.info(
      { event: 'pool.tenant_released', tenant: member.id, reason },
      'tenant part released; its next request builds it again',
    );
    void closePart(part);
  }

  /** Closes every part built, at once (the process is stopping). */
  async close(): Promise<void> {
    const parts = [...this.#byKey.values()].map((member) => member.part);
    for (const [member, timer] of this.#retiring) {
      clearTimeout(timer);
      parts.push(member.part);
    }
    this.#retiring.clear();
    this.#built.close();
    this.#waiting.clear();
    this.#byKey.clear();
    this.#byHost.clear();
    this.#byId.clear();
    this.#byServerName.clear();
    await Promise.all(parts.map((part) => closePart(part)));
  }

  #build(member: Member): Promise<PartInstance> {
    const { build, store, registry, logger, trustedProxyHops } = this.#options;
    const { outbound, uploadSpoolBudget, signInShares } = this.#options;
    const started = Date.now();
    const built = build({
      tenant: member.bundle.tenant,
      tenantId: member.id,
      secrets: member.bundle.secrets,
      logger: logger.child({ tenant: member.id }),
      registry,
      store: store.view(member.id, member.bundle.uid),
      pooled: true,
      ...(trustedProxyHops === undefined ? {} : { trustedProxyHops }),
      ...(outbound ? { outbound } : {}),
      ...(uploadSpoolBudget ? { uploadSpoolShare: uploadSpoolBudget.shareOf(member.id) } : {}),
      ...(signInShares ? { signInShares } : {}),
    });
    built.then(
      () =>
        logger.info(
          { event: 'pool.tenant_built', tenant: member.id, ms: Date.now() - started },
          'tenant ready',
        ),
      (err: unknown) =>
        logger.error(
          {
            event: 'pool.tenant_build_failed',
            tenant: member.id,
            reason: err instanceof JsmSsoError ? err.code : 'POOL_TENANT_UNAVAILABLE',
            err,
          },
          "the tenant's part cannot be built; its requests answer 503 until its bundle changes",
        ),
    );
    return built;
  }

  /**
   * Stops routing to `member` now; its part, if built, is closed once in-flight requests are done.
   * `gone`: its incarnation will not come back, so its keys are purged then (at once if it has no part).
   */
  #forget(member: Member, { gone = false }: { gone?: boolean } = {}): void {
    if (gone) this.#markGone(member);
    this.#byKey.delete(member.bundle.key);
    if (this.#byHost.get(member.host) === member) this.#byHost.delete(member.host);
    if (this.#byId.get(member.id) === member) this.#byId.delete(member.id);
    const named = this.#byServerName.get(member.serverName)?.filter((served) => served !== member);
    if (named?.length) this.#byServerName.set(member.serverName, named);
    else this.#byServerName.delete(member.serverName);
    this.#built.forget(member);
    if (!member.part) {
      this.#purgeIfGone(member);
      return;
    }
    this.#retiring.set(member, undefined);
    this.#closeWhenDone(member);
  }

  /**
   * Starts a retiring member's grace once no request of it is in flight. Not a fixed time from its
   * retirement: a download at the customer's pace may take far longer (ADR 0201), and a pool rebuilds a
   * tenant's part for every change of its bundle, a renewed certificate or rotated token too (ADR 0211).
   * The grace is for work a request leaves behind its response (a write whose customer went away):
   * a part's work on a request that has arrived, not the stopping process's in-flight grace, which
   * also waits for bodies still arriving (ADR 0365); a request whose answer has ended receives no more.
   */
  #closeWhenDone(member: Member): void {
    if (member.inFlight > 0 || this.#retiring.get(member) !== undefined || !this.#retiring.has(member))
      return;
    const timer = setTimeout(() => {
      this.#retiring.delete(member);
      void closePart(member.part).then(() => {
        this.#dropSeriesIfGone(member.id);
        this.#purgeIfGone(member);
      });
    }, this.#options.retireAfterMs ?? LONGEST_WORK_AFTER_ARRIVAL_MS);
    timer.unref();
    this.#retiring.set(member, timer);
  }

  /**
   * Marks `member` gone, and the retiring members of its incarnation (a bundle it replaced, a download
   * still streaming): each purges as its part closes, so none of them writes after the last purge.
   */
  #markGone(member: Member): void {
    member.gone = true;
    for (const retiring of this.#retiring.keys())
      if (retiring.id === member.id && retiring.bundle.uid === member.bundle.uid) retiring.gone = true;
  }

  /**
   * Deletes a gone incarnation's keys from the pool's store (ADR 0390): its customers' sessions (their
   * accountId, NameID and SessionIndex), flows, markers and counters, rather than leaving them until they
   * expire (a session: up to 7 days). Only an incarnation known by its uid: the keys of a tenant without
   * one are its name's, which a tenant re-created under that name writes too. Run after its part is
   * closed, so no request of it writes after the purge; a failure leaves the keys to expire, as before.
   */
  #purgeIfGone(member: Member): void {
    const { uid } = member.bundle;
    if (!member.gone || uid === undefined) return;
    const { store, logger } = this.#options;
    store.purge(member.id, uid).then(
      (keys) =>
        logger.info(
          { event: 'pool.tenant_purged', tenant: member.id, keys },
          "a removed tenant's keys deleted from the pool's store",
        ),
      (err: unknown) =>
        logger.warn(
          {
            event: 'pool.tenant_purge_failed',
            tenant: member.id,
            // The store's purge fails only as the store does (flowStoreErrorOf); anything else is too.
            reason: err instanceof JsmSsoError ? err.code : 'FLOW_STORE_UNAVAILABLE',
            err,
          },
          "a removed tenant's keys could not be deleted from the pool's store; they stay until they expire",
        ),
    );
  }

  #refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: ErrorCode,
    message: string,
    detail: Record<string, unknown> = {},
  ): void {
    this.#options.logger.warn(
      { event: 'pool.refusal', reason, status, method: req.method, ...detail },
      'request refused by the pool',
    );
    res.statusCode = status;
    // No tenant, so no scheme to judge HSTS by: a TLS listener adds it itself (common/http/server.ts).
    setSecurityHeaders(res, { secure: false });
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`${message} (${reason})\n`);
  }
}

/**
 * Whether `next` is another incarnation than `served` (both known by their uid): the tenant was deleted
 * and re-created under its key. A bundle that lost its uid is not taken for one (a label edited away).
 */
function replacedIncarnation(served: TenantBundle, next: TenantBundle): boolean {
  return served.uid !== undefined && next.uid !== undefined && served.uid !== next.uid;
}

function conflict(message: string): JsmSsoError {
  return new JsmSsoError('POOL_TENANT_CONFLICT', message, { status: 409 });
}

async function closePart(part: Promise<PartInstance> | undefined): Promise<void> {
  if (!part) return;
  try {
    await (await part).close?.();
  } catch {
    // A part that failed to build has nothing to close.
  }
}
