import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import type { PartContext } from '../../common/runtime.js';
import type { Sealer } from '../../common/sealer.js';
import { caBundleFor, createTlsFetch, outboundOptions, type TlsFetch } from '../../common/tls/index.js';
import type { BrokerSettings } from '../settings.js';
import type { Backend, BackendContext } from './backend.js';
import { createOAuth2Backend, createOidcBackend } from './oidc-backend.js';
import { createSamlBackend } from './saml-backend.js';

/**
 * The only place that knows which protocol an IdP speaks: one backend per IdP of the tenant.
 * Adding an IdP kind means a backend file, a branch here, the schema and tests.
 */
export function createBackends(
  idps: readonly IdentityProviderSpec[],
  part: PartContext,
  settings: BrokerSettings,
  context: BackendContext,
  sealer: Sealer,
): { backends: Map<string, Backend>; outbound: TlsFetch[] } {
  const backends = new Map<string, Backend>();
  const outbound: TlsFetch[] = [];
  const oauthIdps = idps.filter((idp) => idp.oidc ?? idp.oauth2).length;
  // The SAML IdPs share the broker's decryption keys: AES-CBC only when there is one (ADR 0350).
  const samlIdps = idps.filter((idp) => idp.saml).length;
  for (const idp of idps) {
    const protocol = idp.oidc ?? idp.oauth2 ?? idp.saml;
    // Every call to this IdP verifies TLS, trusting its private CA bundle on top of the public roots.
    const fetch = createTlsFetch({
      extraCaPem: caBundleFor(part.secrets, protocol?.caBundleSecretRef),
      ...outboundOptions(part.outbound),
    });
    outbound.push(fetch);
    const oauth = {
      secrets: part.secrets,
      redirectUri: settings.redirectUri(idp.name, oauthIdps),
      postLogoutRedirectUri: settings.logoutCallbackUrl,
      backchannelLogoutUri: settings.backchannelLogoutUrl(idp.name),
      frontchannelLogoutUri: settings.frontchannelLogoutUrl(idp.name),
      sessionKeyMaterial: settings.stateKeyMaterial,
      sealer,
      fetch,
      context,
    };
    // The schema's rule "exactly one of oidc, oauth2 or saml" holds here: the configuration is
    // checked against the CRD's CEL rules before the broker starts (common/config), so an IdP that
    // is neither SAML nor OIDC is OAuth 2.0 (ADR 0092).
    const backend = idp.saml
      ? createSamlBackend({
          idp,
          brokerUrl: part.tenant.spec.broker.url,
          spSigningKeyPem: settings.signingKeyPem,
          stateKeyMaterial: settings.stateKeyMaterial,
          spCertPem: settings.signingCertPem,
          ...(settings.decryption ? { decryption: settings.decryption } : {}),
          soleSamlIdp: samlIdps === 1,
          fetch,
          context,
          sealer,
          downstreamEntityId: settings.sp.entityId,
        })
      : idp.oidc
        ? createOidcBackend(idp.name, idp.oidc, oauth)
        : createOAuth2Backend(idp.name, idp.oauth2!, oauth);
    backends.set(idp.name, backend);
  }
  return { backends, outbound };
}
