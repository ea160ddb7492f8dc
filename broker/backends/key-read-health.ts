import type { ErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';

/**
 * Whether the broker can read an IdP's keys (OIDC JWKS, SAML metadata) again, told to the operator
 * once per change of state, never once per sign-in (ADR 0151): reads fail while a copy read earlier
 * serves (`stale`), reads fail and nothing may serve (`unusable`: sign-ins are refused), reads work
 * again (`recovered`). Every failed read is also counted, so an alert sees an outage that lasts.
 */
export type IdpKeysKind = 'oidc_jwks' | 'saml_metadata';

type State = 'readable' | 'stale' | 'unusable';

export interface KeyReadHealthOptions {
  idp: string;
  keys: IdpKeysKind;
  logger: Logger;
  /** Counts one failed read (the broker's telemetry: jsm_sso_broker_idp_key_reads_failed_total). */
  countFailedRead: () => void;
}

/** The reason a failed read is logged with when its error carries none of the broker's codes. */
const UNAVAILABLE: Record<IdpKeysKind, ErrorCode> = {
  oidc_jwks: 'OIDC_IDP_UNAVAILABLE',
  saml_metadata: 'SAML_METADATA_UNAVAILABLE',
};

export class KeyReadHealth {
  #state: State = 'readable';

  constructor(private readonly options: KeyReadHealthOptions) {}

  /**
   * A read failed. `servesUntil`: when the copy that keeps serving may no longer be used (epoch ms),
   * or undefined when there is none (never read, or past its validUntil or grace).
   */
  readFailed(err: unknown, servesUntil: number | undefined): void {
    this.options.countFailedRead();
    const state: State = servesUntil === undefined ? 'unusable' : 'stale';
    if (state === this.#state) return;
    this.#state = state;
    const { idp, keys, logger } = this.options;
    const reason = err instanceof JsmSsoError ? err.code : UNAVAILABLE[keys];
    if (servesUntil === undefined) {
      logger.error(
        { event: 'broker.idp_keys_unusable', idp, keys, reason },
        "the IdP's keys cannot be read and no copy may be used: its sign-ins are refused until a read works",
      );
    } else {
      logger.warn(
        {
          event: 'broker.idp_keys_stale',
          idp,
          keys,
          reason,
          servesUntil: new Date(servesUntil).toISOString(),
        },
        "the IdP's keys cannot be read again: the last copy read serves, and reads are tried again in the background",
      );
    }
  }

  /** A read worked. */
  readSucceeded(): void {
    if (this.#state === 'readable') return;
    const { idp, keys, logger } = this.options;
    logger.info(
      { event: 'broker.idp_keys_recovered', idp, keys, was: this.#state },
      "the IdP's keys are read again: the new copy serves",
    );
    this.#state = 'readable';
  }
}
