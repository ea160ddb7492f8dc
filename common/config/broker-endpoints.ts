/**
 * The broker's public addresses that other parties register: the portal (its SAML IdP), and each
 * OIDC / OAuth 2.0 IdP (the client's redirect, post-logout redirect and back-channel logout URIs),
 * and each SAML IdP (the metadata to read, whose SOAP SingleLogoutService is its own).
 * One place, read by the broker (broker/settings.ts) and by the operator, which publishes them in
 * the tenant's status so an admin can copy them into the IdP (ADR 0150).
 */

export function brokerEndpoints(brokerUrl: string) {
  return {
    entityId: `${brokerUrl}/saml/metadata`,
    ssoUrl: `${brokerUrl}/saml/sso`,
    sloUrl: `${brokerUrl}/saml/slo`,
    callbackUrl: `${brokerUrl}/oidc/callback`,
    logoutCallbackUrl: `${brokerUrl}/oidc/logout-callback`,
    /**
     * Where the OIDC IdP `idp` posts its back-channel logout tokens: one address per IdP, so that
     * the IdP a token is judged by never depends on what the token says.
     */
    backchannelLogoutUrl: (idp: string) => `${brokerUrl}/oidc/backchannel-logout/${idp}`,
    /**
     * The broker's SP metadata for the SAML IdP `idp`: the shared entityID, with that IdP's own
     * SOAP SingleLogoutService (ADR 0160).
     */
    samlSpMetadataUrl: (idp: string) => `${brokerUrl}/saml/sp-metadata/${idp}`,
    /** Where the SAML IdP `idp` posts its LogoutRequests over SOAP: one address per IdP, as above. */
    samlBackchannelLogoutUrl: (idp: string) => `${brokerUrl}/saml/backchannel-logout/${idp}`,
  };
}
