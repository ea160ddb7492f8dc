import type { Registry } from 'prom-client';
import type { MappingProblemKind } from '../common/claim-expression.js';
import type { Logger } from '../common/log.js';
import { type TenantLabels, tenantLabels, tenantMetrics } from '../common/metrics.js';
import type { IdpKeysKind } from './backends/key-read-health.js';
import type { MappingProblem } from './mapping.js';
import { subjectHasher } from './subject.js';

/** The log line's message for each kind of mapping problem (the attribute is left out in each). */
const MAPPING_PROBLEM_MESSAGES: Record<MappingProblemKind, string> = {
  missing_claim: 'a claim-mapping expression reads a claim the IdP did not send; the attribute was left out',
  type_error: 'a claim-mapping expression failed on the claims it got; the attribute was left out',
  distributed_claim:
    'a claim-mapping expression reads a claim the IdP sent by reference (_claim_names: aggregated or distributed, e.g. Entra ID groups overage), which is not fetched; the attribute was left out',
  cost_exceeded:
    'a claim-mapping expression passed its evaluation cost bound over the claims it got (ADR 0232); the attribute was left out',
};

/**
 * The broker's metrics and audit lines. Labels are bounded (tenant, IdP name, reason code,
 * result); nothing about a person is a label, and the audit line names people only by a keyed hash.
 */
export interface BrokerTelemetry {
  /** `detail`: which check refused, where one reason code covers several (SamlError.detail). */
  refusal(reason: string, status: number, idp?: string, detail?: string): void;
  /** `where` names the faulty part of the configuration (JsmSsoError.where: names, no values). */
  unavailable(reason: string, status: number, where?: Readonly<Record<string, string>>): void;
  login(event: {
    idp: string;
    subject?: string;
    result: 'success' | 'refused' | 'error';
    clientIp: string;
    startedAt?: number;
    reason?: string;
    detail?: string;
  }): void;
  observeRequest(route: string, seconds: number): void;
  /** A mapping expression gave no value at sign-in (never logs the value). */
  mappingProblem(problem: MappingProblem): void;
  /** A read of an IdP's keys failed (its log lines are key-read-health.ts's, once per change of state). */
  keyReadFailed(idp: string, keys: IdpKeysKind): void;
  /**
   * An IdP's own logout, by back-channel token (ADR 0150) or front-channel frame (ADR 0159), and
   * what came of it (never the token, the sid, or whom it names): `ended` the sessions it names,
   * found `no_session`, ended them but the portal answered PartialLogout (`partial`), left one to
   * another logout ending it at that moment (`already_ending`, ADR 0382), `refused` the request, or
   * could not judge it or reach the portal (`error`, the sessions left).
   */
  idpLogout(
    channel: IdpLogoutChannel,
    event: {
      idp: string;
      result: IdpLogoutResult;
      reason?: string;
      /** The check a refused request failed (LogoutTokenCheck, FrontchannelLogoutCheck). */
      detail?: string;
    },
  ): void;
}

export type IdpLogoutChannel = 'backchannel' | 'frontchannel';
export type IdpLogoutResult = 'ended' | 'no_session' | 'partial' | 'already_ending' | 'refused' | 'error';

/**
 * `tenant`: a dedicated part's tenant id, or both label values (a pooled tenant's, see
 * common/metrics.ts). `subjectKeyMaterial`: secret material every replica shares (the broker's
 * signing key), which keys the audit line's subject hash.
 */
export function createBrokerTelemetry(
  registry: Registry,
  logger: Logger,
  tenant: string | TenantLabels,
  subjectKeyMaterial: string,
): BrokerTelemetry {
  const { perTenant, aggregated } = typeof tenant === 'string' ? tenantLabels(tenant) : tenant;
  // The same person at the same IdP gets the same hash in every replica: their logins can be
  // followed through the log without it naming them.
  const hashSubject = subjectHasher(subjectKeyMaterial, 'audit-subject-hash');
  const subjectHash = (idp: string, subject: string) => hashSubject(idp, subject).slice(0, 16);
  const metrics = tenantMetrics(registry, 'broker');
  return {
    refusal(reason, status, idp, detail) {
      metrics.counter('jsm_sso_broker_refusals_total').inc({ tenant: aggregated, reason });
      logger.warn(
        { event: 'broker.refusal', reason, status, ...(idp ? { idp } : {}), ...(detail ? { detail } : {}) },
        'request refused',
      );
    },
    unavailable(reason, status, where) {
      metrics.counter('jsm_sso_broker_errors_total').inc({ tenant: aggregated, reason });
      logger.error({ event: 'broker.unavailable', reason, status, ...where }, 'request could not be served');
    },
    login({ idp, subject, result, clientIp, startedAt, reason, detail }) {
      metrics.counter('jsm_sso_broker_logins_total').inc({ tenant: perTenant, idp, result });
      if (startedAt !== undefined && result === 'success')
        metrics
          .histogram('jsm_sso_broker_login_duration_seconds')
          .observe({ tenant: aggregated, idp }, (Date.now() - startedAt) / 1000);
      logger.info(
        {
          event: 'broker.login',
          idp,
          result,
          clientIp,
          ...(subject === undefined ? {} : { subjectHash: subjectHash(idp, subject) }),
          ...(reason ? { reason } : {}),
          ...(detail ? { detail } : {}),
        },
        'login',
      );
    },
    observeRequest(route, seconds) {
      metrics
        .histogram('jsm_sso_broker_request_duration_seconds')
        .observe({ tenant: aggregated, route }, seconds);
    },
    idpLogout(channel, { idp, result, reason, detail }) {
      metrics.counter(`jsm_sso_broker_${channel}_logouts_total`).inc({ tenant: aggregated, idp, result });
      // Counted with every other 4xx and 5xx too, so the dashboards' totals stay whole.
      if (reason && result === 'refused')
        metrics.counter('jsm_sso_broker_refusals_total').inc({ tenant: aggregated, reason });
      if (reason && result === 'error')
        metrics.counter('jsm_sso_broker_errors_total').inc({ tenant: aggregated, reason });
      const level =
        result === 'refused' || result === 'partial' ? 'warn' : result === 'error' ? 'error' : 'info';
      logger[level](
        {
          event: `broker.${channel}_logout`,
          idp,
          result,
          ...(reason ? { reason } : {}),
          ...(detail ? { detail } : {}),
        },
        channel === 'backchannel' ? 'back-channel logout' : 'front-channel logout',
      );
    },
    mappingProblem({ idp, attribute, problem }) {
      metrics
        .counter('jsm_sso_broker_mapping_problems_total')
        .inc({ tenant: aggregated, idp, attribute, problem });
      // A missing claim is routine (IdPs omit claims); a type error is the tenant's expression, a
      // claim sent by reference the IdP's set-up (e.g. Entra ID: emit the groups assigned to the app).
      logger[problem === 'missing_claim' ? 'info' : 'warn'](
        { event: 'broker.mapping_problem', idp, attribute, problem },
        MAPPING_PROBLEM_MESSAGES[problem],
      );
    },
    keyReadFailed(idp, keys) {
      metrics.counter('jsm_sso_broker_idp_key_reads_failed_total').inc({ tenant: aggregated, idp, keys });
    },
  };
}
