import { randomBytes } from 'node:crypto';
import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import type { FlowStore } from '../../common/flowstore/index.js';
import { isLoopbackHost } from '../../common/net.js';
import {
  BINDING_POST,
  buildSpMetadata,
  DEFAULT_MAX_MESSAGE_BYTES,
  escapeXml,
  type IdpMetadata,
  NS,
  parseIdpMetadata,
  SamlError,
  signRedirectQuery,
  type ValidatedAssertion,
  validateSamlResponse,
} from '../../common/saml/index.js';
import { signedLogoutResponseUrl } from '../saml/logout-response.js';
import type { AuthenticatedSubject, UpstreamSamlSession } from '../subject.js';
import {
  acceptLogoutRequest,
  acceptLogoutResponse,
  logoutRequestXml,
  type UpstreamLogoutRequest,
} from './saml-logout.js';

/**
 * The broker as a SAML 2.0 service provider toward a tenant's upstream IdP (Web Browser SSO
 * profile): signed AuthnRequest over HTTP-Redirect, Response over HTTP-POST to {brokerUrl}/saml/acs,
 * validated by common/saml (signed Assertion, audience, destination, recipient, InResponseTo bound
 * to the flow, time window, one-time use).
 */

export interface SamlBackendOptions {
  idp: IdentityProviderSpec;
  /** Public base URL of the broker, without trailing slash. */
  brokerUrl: string;
  spSigningKeyPem: string;
  spCertPem: string;
  store: FlowStore;
  /** For metadataUrl; must verify TLS (the default fetch does). */
  fetch?: typeof fetch;
  now?: () => Date;
  /** How long a started login may wait for the IdP's answer. Default 600. */
  flowTtlSeconds?: number;
}

export interface SamlBackend {
  readonly idp: string;
  readonly protocol: 'saml';
  /** `requestId` is the AuthnRequest ID, also stored bound to `flowId`; keep it in the flow state. */
  startLogin(options: {
    flowId: string;
    forceAuthn?: boolean;
    isPassive?: boolean;
  }): Promise<{ redirectUrl: string; requestId: string }>;
  /** `samlResponseBase64` is the POSTed SAMLResponse, `relayStateFlowId` the POSTed RelayState. */
  handleAcs(
    samlResponseBase64: string,
    relayStateFlowId: string,
    flowState: { upstreamRequestId: string },
  ): Promise<AuthenticatedSubject>;
  spMetadataXml(): string;
  /**
   * Signed LogoutRequest (HTTP-Redirect) for the session, carrying `relayState`; undefined when
   * the IdP has no SLO endpoint. Keep `requestId` to check the LogoutResponse against.
   */
  logoutUrl(
    session: UpstreamSamlSession,
    relayState: string,
  ): Promise<{ redirectUrl: string; requestId: string } | undefined>;
  /** Whether `issuer` is this IdP's entityID (to route a message before verifying it). */
  isIssuer(issuer: string): Promise<boolean>;
  /** Verifies and checks the IdP's LogoutResponse (raw query as received) to `requestId`. */
  acceptLogoutResponse(rawQuery: string, requestId: string): Promise<{ success: boolean }>;
  /** Verifies and checks a LogoutRequest from the IdP (raw query as received). */
  acceptLogoutRequest(rawQuery: string): Promise<UpstreamLogoutRequest>;
  /** Signed Success LogoutResponse URL to the IdP's SLO endpoint, or undefined when it has none. */
  logoutResponseUrl(inResponseTo: string, relayState?: string): Promise<string | undefined>;
}

export const METADATA_REFRESH_MS = 60 * 60 * 1000;
// A stale copy keeps logins working through a short outage of the metadata endpoint.
const METADATA_MAX_STALE_MS = 24 * METADATA_REFRESH_MS;
const MAX_METADATA_BYTES = 1024 * 1024;

/** Attribute names that commonly carry the e-mail address, in order of preference. */
const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'emailAddress',
];
const EMAIL_NAMEID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

export function createSamlBackend(options: SamlBackendOptions): SamlBackend {
  const spec = options.idp.saml;
  if (!spec)
    throw new SamlError(
      'SAML_METADATA_INVALID',
      `identity provider ${options.idp.name} is not a SAML provider`,
      { status: 500 },
    );
  const now = options.now ?? (() => new Date());
  const entityId = `${options.brokerUrl}/saml/sp-metadata`;
  const acsUrl = `${options.brokerUrl}/saml/acs`;
  const sloUrl = `${options.brokerUrl}/saml/slo`;
  const flowTtl = options.flowTtlSeconds ?? 600;
  const metadata = metadataSource(spec, options.fetch ?? fetch, now);

  return {
    idp: options.idp.name,
    protocol: 'saml',

    async startLogin({ flowId, forceAuthn, isPassive }) {
      const idp = await metadata();
      const requestId = `_${randomBytes(20).toString('hex')}`;
      await options.store.put(authnRequestKey(flowId), requestId, flowTtl);
      const xml =
        `<samlp:AuthnRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${requestId}" Version="2.0"` +
        ` IssueInstant="${instant(now())}" Destination="${escapeXml(idp.ssoUrl)}" AssertionConsumerServiceURL="${escapeXml(acsUrl)}"` +
        ` ProtocolBinding="${BINDING_POST}"${forceAuthn ? ' ForceAuthn="true"' : ''}${isPassive ? ' IsPassive="true"' : ''}>` +
        `<saml:Issuer>${escapeXml(entityId)}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>`;
      const query = signRedirectQuery('SAMLRequest', xml, {
        keyPem: options.spSigningKeyPem,
        relayState: flowId,
      });
      return { redirectUrl: withQuery(idp.ssoUrl, query), requestId };
    },

    async handleAcs(samlResponseBase64, relayStateFlowId, flowState) {
      // The request ID is consumed once: a second Response for the same flow finds nothing.
      const stored = await options.store.take(authnRequestKey(relayStateFlowId));
      if (!stored || stored !== flowState.upstreamRequestId) {
        throw new SamlError(
          'SAML_IN_RESPONSE_TO_MISMATCH',
          'the Response does not belong to a login in progress',
        );
      }
      const idp = await metadata();
      const assertion = await validateSamlResponse(
        decodePostedResponse(samlResponseBase64),
        {
          idpEntityId: idp.entityId,
          idpCertificatesPem: idp.signingCertificatesPem,
          spEntityId: entityId,
          acsUrl,
          inResponseTo: stored,
          now: now(),
        },
        options.store,
      );
      return subjectFrom(options.idp.name, assertion);
    },

    spMetadataXml() {
      return buildSpMetadata({ entityId, acsUrl, sloUrl, signingCertPem: options.spCertPem });
    },

    async logoutUrl(session, relayState) {
      const idp = await metadata();
      if (!idp.sloUrl) return undefined;
      const requestId = `_${randomBytes(20).toString('hex')}`;
      const xml = logoutRequestXml(
        { id: requestId, issuer: entityId, destination: idp.sloUrl, now: now() },
        session,
      );
      const query = signRedirectQuery('SAMLRequest', xml, { keyPem: options.spSigningKeyPem, relayState });
      return { redirectUrl: withQuery(idp.sloUrl, query), requestId };
    },

    async isIssuer(issuer) {
      return (await metadata()).entityId === issuer;
    },

    async acceptLogoutResponse(rawQuery, requestId) {
      return acceptLogoutResponse(rawQuery, await metadata(), { url: sloUrl, now: now() }, requestId);
    },

    async acceptLogoutRequest(rawQuery) {
      return acceptLogoutRequest(rawQuery, await metadata(), { url: sloUrl, now: now() });
    },

    async logoutResponseUrl(inResponseTo, relayState) {
      const idp = await metadata();
      if (!idp.sloUrl) return undefined;
      return signedLogoutResponseUrl(options.spSigningKeyPem, {
        issuer: entityId,
        destination: idp.sloUrl,
        inResponseTo,
        partial: false,
        now: now(),
        ...(relayState === undefined ? {} : { relayState }),
      });
    },
  };
}

/**
 * SAML attributes become claims: one value -> string, several -> string[]. `nameId` and
 * `nameIdFormat` are added; `email` is filled from the usual e-mail attribute names, or from an
 * emailAddress-format NameID, when the IdP sent no `email` attribute.
 */
export function subjectFrom(idp: string, assertion: ValidatedAssertion): AuthenticatedSubject {
  const claims: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(assertion.attributes)) {
    if (values.length > 0) claims[name] = values.length === 1 ? values[0] : values;
  }
  claims['nameId'] = assertion.nameId;
  claims['nameIdFormat'] = assertion.nameIdFormat;
  if (claims['email'] === undefined) {
    const source = EMAIL_ATTRIBUTES.map((n) => assertion.attributes[n]?.[0]).find((v) => v !== undefined);
    const email = source ?? (assertion.nameIdFormat === EMAIL_NAMEID ? assertion.nameId : undefined);
    if (email !== undefined) claims['email'] = email;
  }
  const subject: AuthenticatedSubject = { idp, subject: assertion.nameId, claims };
  if (assertion.authnContextClassRef) subject.authnContextClassRef = assertion.authnContextClassRef;
  if (assertion.authnInstant) subject.authTime = assertion.authnInstant;
  subject.samlSession = {
    nameId: assertion.nameId,
    nameIdFormat: assertion.nameIdFormat,
    ...(assertion.sessionIndex ? { sessionIndex: assertion.sessionIndex } : {}),
  };
  return subject;
}

function authnRequestKey(flowId: string): string {
  return `saml-authn-request:${flowId}`;
}

function decodePostedResponse(base64: string): string {
  const compact = base64.replace(/\s+/g, '');
  if (compact.length > Math.ceil((DEFAULT_MAX_MESSAGE_BYTES * 4) / 3) + 4) {
    throw new SamlError('SAML_MESSAGE_TOO_LARGE', 'the SAML Response is too large');
  }
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new SamlError('SAML_ENCODING_INVALID', 'the SAML Response is not valid base64');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

type SamlSpec = NonNullable<IdentityProviderSpec['saml']>;

/** The IdP's metadata from the tenant spec: inline, static, or fetched and refreshed hourly. */
function metadataSource(
  spec: SamlSpec,
  fetchImpl: typeof fetch,
  now: () => Date,
): () => Promise<IdpMetadata> {
  if (spec.metadataXml) {
    const parsed = parseIdpMetadata(spec.metadataXml);
    return async () => parsed;
  }
  if (spec.entityId && spec.ssoUrl && spec.certificates?.length) {
    const fixed: IdpMetadata = {
      entityId: spec.entityId,
      ssoUrl: spec.ssoUrl,
      signingCertificatesPem: spec.certificates,
    };
    if (spec.sloUrl) fixed.sloUrl = spec.sloUrl;
    return async () => fixed;
  }
  const url = spec.metadataUrl;
  if (!url)
    throw new SamlError('SAML_METADATA_INVALID', 'the SAML provider has no metadata source', { status: 500 });
  let cached: { metadata: IdpMetadata; fetchedAt: number } | undefined;
  let inFlight: Promise<IdpMetadata> | undefined;
  const refresh = async (): Promise<IdpMetadata> => {
    const metadata = parseIdpMetadata(await fetchMetadata(url, fetchImpl));
    if (spec.sloUrl) metadata.sloUrl = spec.sloUrl;
    cached = { metadata, fetchedAt: now().getTime() };
    return metadata;
  };
  return async () => {
    const age = cached ? now().getTime() - cached.fetchedAt : Number.POSITIVE_INFINITY;
    if (cached && age < METADATA_REFRESH_MS) return cached.metadata;
    inFlight ??= refresh().finally(() => {
      inFlight = undefined;
    });
    try {
      return await inFlight;
    } catch (err) {
      if (cached && age < METADATA_MAX_STALE_MS) return cached.metadata;
      throw err;
    }
  };
}

async function fetchMetadata(url: string, fetchImpl: typeof fetch): Promise<string> {
  // The CRD admits plain http on loopback only (local development); everything else is https.
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'https:' && !(protocol === 'http:' && isLoopbackHost(hostname))) {
    throw new SamlError('SAML_METADATA_UNAVAILABLE', 'metadata must be fetched over https', { status: 502 });
  }
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  } catch (cause) {
    throw new SamlError('SAML_METADATA_UNAVAILABLE', 'the IdP metadata could not be fetched', {
      status: 502,
      cause,
    });
  }
  if (!response.ok) {
    throw new SamlError('SAML_METADATA_UNAVAILABLE', `the IdP metadata answered HTTP ${response.status}`, {
      status: 502,
    });
  }
  const text = await response.text();
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES) {
    throw new SamlError('SAML_METADATA_INVALID', 'the IdP metadata is too large', { status: 502 });
  }
  return text;
}

function withQuery(url: string, query: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

function instant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
