import { brokerEndpoints } from '../../common/config/broker-endpoints.js';
import type { TenantStatus } from '../../common/config/tenant.generated.js';

/**
 * Which of the broker's addresses an admin registers at each IdP, by protocol. Here, not in the
 * operator that publishes it in the tenant's status, because only the backends know what each
 * protocol asks of an IdP (test/broker/architecture.test.ts): an OIDC client registers its
 * redirect, post-logout redirect, back-channel and front-channel logout URIs, a plain OAuth 2.0
 * client its redirect only, and a SAML IdP reads the broker's metadata made for it instead.
 */
type IdentityProviderEndpoints = NonNullable<TenantStatus['identityProviderEndpoints']>;

/**
 * What the admin registers at each IdP for the broker: an OIDC or OAuth 2.0 client's URIs (ADR
 * 0150, 0159), a SAML IdP's metadata of the broker, whose SOAP SingleLogoutService is the IdP's own (ADR
 * 0160). Read from the spec as written, so a tenant whose spec does not validate still shows what it can.
 */
export function identityProviderEndpoints(
  brokerUrl: string,
  identityProviders: unknown,
): IdentityProviderEndpoints {
  const broker = brokerEndpoints(brokerUrl);
  const idps = Array.isArray(identityProviders) ? (identityProviders as Array<Record<string, unknown>>) : [];
  const oauthIdps = idps.filter((idp) => idp?.['oidc'] || idp?.['oauth2']).length;
  return idps.flatMap((idp): IdentityProviderEndpoints => {
    const name = idp?.['name'];
    if (typeof name !== 'string') return [];
    if (idp['saml'])
      return [
        {
          name,
          spMetadataUrl: broker.samlSpMetadataUrl(name),
          soapLogoutUri: broker.samlBackchannelLogoutUrl(name),
        },
      ];
    if (!idp['oidc'] && !idp['oauth2']) return [];
    return [
      {
        name,
        redirectUri: broker.redirectUri(name, oauthIdps),
        ...(idp['oidc']
          ? {
              postLogoutRedirectUri: broker.logoutCallbackUrl,
              backchannelLogoutUri: broker.backchannelLogoutUrl(name),
              frontchannelLogoutUri: broker.frontchannelLogoutUrl(name),
            }
          : {}),
      },
    ];
  });
}
