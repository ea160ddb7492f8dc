import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { isLoopbackHost } from '../../common/net.js';
import {
  type IdpMetadata,
  MAX_METADATA_BYTES,
  parseIdpMetadata,
  SamlError,
} from '../../common/saml/index.js';
import { boundedResponse, type OutboundInit, outboundBoundMet } from '../../common/tls/index.js';
import { callTimedOut, idpCallTimeout } from './idp-call-timeout.js';
import { KeyCopyReads } from './key-copy-reads.js';
import { KeyReadHealth } from './key-read-health.js';
import { RefetchCooldown } from './refetch-cooldown.js';

/**
 * An upstream SAML IdP's metadata as the tenant gives it: inline, as fixed fields, or from a URL
 * read again on a schedule and when a message's signature verifies with none of its certificates,
 * so that a signing-certificate rollover at the IdP costs no sign-in (ADR 0144).
 */
export interface MetadataSource {
  /** The metadata to use now. */
  current(): Promise<IdpMetadata>;
  /**
   * The metadata to check a message again with, after a signature that none of the certificates of
   * `checked` verifies: a copy read since, else read again (or the read under way) unless that was
   * done moments ago, then the copy as it is now. Undefined when there is nothing to read (inline).
   */
  afterSignatureFailure(checked: IdpMetadata): Promise<IdpMetadata | undefined>;
}

/** A copy is read again after an hour, or sooner: its cacheDuration, or halfway to its validUntil. */
export const METADATA_REFRESH_MS = 60 * 60 * 1000;
/** ...but not more often than every minute, whatever cacheDuration says. */
const METADATA_MIN_REFRESH_MS = 60 * 1000;
// A stale copy keeps logins working through an outage of the metadata endpoint, never past validUntil.
const METADATA_MAX_STALE_MS = 24 * METADATA_REFRESH_MS;
/** Reads prompted by a signature no certificate verifies (anyone can post one) are this far apart. */
export const METADATA_REFETCH_COOLDOWN_MS = 10_000;

type SamlSpec = NonNullable<IdentityProviderSpec['saml']>;

export interface MetadataSourceOptions {
  idp: string;
  spec: SamlSpec;
  fetch: typeof fetch;
  now: () => Date;
  timeoutMs: number;
  logger: Logger;
  /** Counts a failed read of the metadata (the broker's telemetry). */
  countFailedRead: () => void;
}

interface Copy {
  metadata: IdpMetadata;
  /** When it is due to be read again (in the background: the copy serves meanwhile). */
  refreshAt: number;
  /** When it may no longer be used at all: validUntil, or a day after it was read. */
  usableUntil: number;
}

export function metadataSource(options: MetadataSourceOptions): MetadataSource {
  const { spec } = options;
  if (spec.metadataXml) return fixedSource(parseIdpMetadata(spec.metadataXml));
  if (spec.entityId && spec.ssoUrl && spec.certificates?.length) {
    const fixed: IdpMetadata = {
      entityId: spec.entityId,
      ssoUrl: spec.ssoUrl,
      signingCertificatesPem: spec.certificates,
    };
    if (spec.sloUrl) fixed.sloUrl = spec.sloUrl;
    return fixedSource(fixed);
  }
  const url = spec.metadataUrl;
  if (!url)
    throw new SamlError('SAML_METADATA_INVALID', 'the SAML provider has no metadata source', { status: 500 });
  return urlSource(url, options);
}

function fixedSource(metadata: IdpMetadata): MetadataSource {
  return { current: async () => metadata, afterSignatureFailure: async () => undefined };
}

function urlSource(url: string, options: MetadataSourceOptions): MetadataSource {
  const { idp, logger } = options;
  const now = () => options.now().getTime();
  const cooldown = new RefetchCooldown(METADATA_REFETCH_COOLDOWN_MS, options.now);
  const health = new KeyReadHealth({
    idp,
    keys: 'saml_metadata',
    logger,
    countFailedRead: options.countFailedRead,
  });
  const reads = new KeyCopyReads({ read: () => readCopy(url, options), now: options.now, health });

  return {
    async current() {
      const at = now();
      const copy = reads.usable(at);
      if (copy) {
        // Due: read in the background, the person does not wait for the metadata endpoint.
        // A failed read is told by `health`, once per change of state.
        if (at >= copy.refreshAt) reads.readInBackground(at);
        return copy.metadata;
      }
      // No copy, or one past its validUntil or a day old: nothing may be used until a read succeeds.
      return (await reads.read()).metadata;
    },
    async afterSignatureFailure(checked) {
      const latest = reads.latest;
      if (latest && latest.metadata !== checked) return latest.metadata;
      if (!reads.reading) {
        // Spaced by the cooldown, not by the retry schedule of failed reads (anyone can post such a message).
        if (cooldown.claim()) {
          logger.info(
            { event: 'broker.saml_metadata_refresh', idp, cause: 'signature_not_verified' },
            'a signature verifies with no certificate of the IdP metadata: it is read again',
          );
          reads.read().catch(() => undefined);
        } else {
          logger.warn(
            { event: 'broker.saml_metadata_refresh_held', idp, retryInSeconds: cooldown.retryInSeconds() },
            'a signature verifies with no certificate of the IdP metadata, which was read again moments ago',
          );
        }
      }
      await reads.settled();
      // A read that has just ended (this one, or another's) is in the copy.
      return reads.latest?.metadata;
    },
  };
}

async function readCopy(url: string, options: MetadataSourceOptions): Promise<Copy> {
  const metadata = parseIdpMetadata(await fetchMetadata(url, options.fetch, options.timeoutMs));
  if (options.spec.sloUrl) {
    // The tenant's own SingleLogoutService replaces the metadata's, its ResponseLocation with it.
    metadata.sloUrl = options.spec.sloUrl;
    delete metadata.sloResponseUrl;
  }
  const readAt = options.now().getTime();
  const validUntil = metadata.validUntil?.getTime() ?? Number.POSITIVE_INFINITY;
  if (validUntil <= readAt)
    throw new SamlError('SAML_METADATA_INVALID', 'the IdP metadata is past its validUntil', { status: 502 });
  // Halfway to validUntil, so that the retries of a failed read still fall before it.
  const keepFor = Math.min(
    METADATA_REFRESH_MS,
    metadata.cacheDurationMs ?? Number.POSITIVE_INFINITY,
    (validUntil - readAt) / 2,
  );
  return {
    metadata,
    refreshAt: readAt + Math.max(METADATA_MIN_REFRESH_MS, keepFor),
    usableUntil: Math.min(readAt + METADATA_MAX_STALE_MS, validUntil),
  };
}

async function fetchMetadata(url: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<string> {
  // The CRD admits plain http on loopback only (local development); everything else is https.
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'https:' && !(protocol === 'http:' && isLoopbackHost(hostname))) {
    throw new SamlError('SAML_METADATA_UNAVAILABLE', 'metadata must be fetched over https', { status: 502 });
  }
  const unavailable = (message: string, cause?: unknown) =>
    new SamlError('SAML_METADATA_UNAVAILABLE', message, { status: 502, cause });
  // One deadline for the answer and its body: no answer, or a body that stalls after the headers, is
  // the IdP slow (IDP_CALL_TIMEOUT, ADR 0441), not an internal error.
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    const init: OutboundInit = { redirect: 'error', signal, maxResponseBytes: MAX_METADATA_BYTES };
    response = await fetchImpl(url, init);
  } catch (cause) {
    // A Content-Length over the limit is refused before the body (its own reason, as below), and a
    // host name that did not resolve in time is said as such (ADR 0206).
    if (outboundBoundMet(cause)) throw cause;
    if (callTimedOut(cause)) throw idpCallTimeout(cause);
    throw unavailable('the IdP metadata could not be fetched', cause);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw unavailable(`the IdP metadata answered HTTP ${response.status}`);
  }
  // Read no further than 1 MiB (UPSTREAM_RESPONSE_TOO_LARGE): the outbound client bounds it
  // already, and so does this for any other fetch.
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await boundedResponse(response, MAX_METADATA_BYTES).arrayBuffer());
  } catch (cause) {
    if (cause instanceof JsmSsoError) throw cause;
    if (callTimedOut(cause)) throw idpCallTimeout(cause);
    throw unavailable('the IdP metadata broke off', cause);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new SamlError('SAML_METADATA_INVALID', 'the IdP metadata is not UTF-8', { status: 502, cause });
  }
}
