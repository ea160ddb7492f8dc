/**
 * The broker's public addresses that other parties register: the portal (its SAML IdP), and each
 * OIDC / OAuth 2.0 IdP (the client's redirect, post-logout redirect, back-channel and front-channel
 * logout URIs), and each SAML IdP (the metadata to read, whose SOAP SingleLogoutService is its own).
 * One place, read by the broker (broker/settings.ts) and by the operator, which publishes them in
 * the tenant's status so an admin can copy them into the IdP (ADR 0150).
 */

export function brokerEndpoints(brokerUrl: string) {
  return {
    entityId: `${brokerUrl}/saml/metadata`,
    ssoUrl: `${brokerUrl}/saml/sso`,
    sloUrl: `${brokerUrl}/saml/slo`,
    callbackUrl: `${brokerUrl}/oidc/callback`,
    /**
     * The redirect URI of the OIDC or OAuth 2.0 IdP `idp` in a tenant with `oauthIdps` such IdPs.
     * With several, one address per IdP: an answer is judged by the IdP whose address it came to,
     * the mix-up defence RFC 9700 4.4.2 requires of a client of several authorization servers
     * whatever they send (RFC 9207 `iss` is checked too, when an IdP sends it). A tenant's only one
     * keeps the shared address, where no mix-up can be (ADR 0175).
     * In the URL's canonical form (WHATWG: host in lower case and punycode, no default port, dot
     * segments gone), whatever spelling spec.broker.url has: openid-client writes the token request's
     * redirect_uri so, and RFC 6749 4.1.3 wants it identical to the authorization request's, which
     * this one string is too (ADR 0243).
     */
    redirectUri: (idp: string, oauthIdps: number) =>
      new URL(oauthIdps > 1 ? `${brokerUrl}/oidc/callback/${idp}` : `${brokerUrl}/oidc/callback`).href,
    logoutCallbackUrl: `${brokerUrl}/oidc/logout-callback`,
    /**
     * Where the OIDC IdP `idp` posts its back-channel logout tokens: one address per IdP, so that
     * the IdP a token is judged by never depends on what the token says.
     */
    backchannelLogoutUrl: (idp: string) => `${brokerUrl}/oidc/backchannel-logout/${idp}`,
    /**
     * What the OIDC IdP `idp` frames in its logout page (Front-Channel Logout 1.0, ADR 0159): one
     * address per IdP for the same reason, and so that its page may be framed by that IdP only.
     */
    frontchannelLogoutUrl: (idp: string) => `${brokerUrl}/oidc/frontchannel-logout/${idp}`,
    /**
     * The broker's SP metadata for the SAML IdP `idp`: the shared entityID, with that IdP's own
     * SOAP SingleLogoutService (ADR 0160).
     */
    samlSpMetadataUrl: (idp: string) => `${brokerUrl}/saml/sp-metadata/${idp}`,
    /** Where the SAML IdP `idp` posts its LogoutRequests over SOAP: one address per IdP, as above. */
    samlBackchannelLogoutUrl: (idp: string) => `${brokerUrl}/saml/backchannel-logout/${idp}`,
  };
}

/**
 * The path every broker endpoint is under: spec.broker.url's own path (`/sso` of
 * `https://help.acme.example/sso`, beside a portal at `/` on one host), or '' at the root.
 */
export function brokerBasePath(brokerUrl: string): string {
  return new URL(brokerUrl).pathname.replace(/\/$/, '');
}
