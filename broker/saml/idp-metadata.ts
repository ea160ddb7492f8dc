import { canonicalAttribute as attr, canonicalText as text } from '../../common/saml/canonical-xml.js';
import { BINDING_POST, BINDING_REDIRECT, NS } from '../../common/saml/index.js';

/**
 * The broker's SAML IdP metadata for the portal: SSO over Redirect and POST, SLO over Redirect,
 * and a signing KeyDescriptor per certificate (the active one, and the next one ahead of a
 * rollover, so the portal trusts both before the switch).
 */
export interface IdpMetadataOptions {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  /** Base64 DER certificates, active first. */
  signingCertificates: readonly string[];
  nameIdFormats: readonly string[];
}

export function buildIdpMetadata(options: IdpMetadataOptions): string {
  const keys = options.signingCertificates
    .map(
      (cert) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${NS.dsig}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  const sso = attr(options.ssoUrl);
  const formats = [...new Set(options.nameIdFormats)]
    .map((f) => `<md:NameIDFormat>${text(f)}</md:NameIDFormat>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<md:EntityDescriptor xmlns:md="${NS.metadata}" entityID="${attr(options.entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="${NS.protocol}">${keys}` +
    `<md:SingleLogoutService Binding="${BINDING_REDIRECT}" Location="${attr(options.sloUrl)}"/>${formats}` +
    `<md:SingleSignOnService Binding="${BINDING_REDIRECT}" Location="${sso}"/>` +
    `<md:SingleSignOnService Binding="${BINDING_POST}" Location="${sso}"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>\n'
  );
}
