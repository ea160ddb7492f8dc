import { X509Certificate } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { canonicalAttribute as attr, canonicalText as text } from './canonical-xml.js';
import { certificateBase64 } from './certificates.js';
import { acceptedEncryptionMethods } from './decryption.js';
import { SamlError } from './errors.js';
import { BINDING_POST, BINDING_REDIRECT, BINDING_SOAP, NS } from './namespaces.js';
import { attribute, childElements, descendants, isNamed, parseSamlXml, simpleText } from './xml.js';

export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService location for the HTTP-Redirect binding. */
  ssoUrl: string;
  /** SingleLogoutService location for the HTTP-Redirect binding, if any. */
  sloUrl?: string;
  /**
   * That SingleLogoutService's ResponseLocation, when it names one: where LogoutResponses go instead
   * of its Location (metadata 2.2.2).
   */
  sloResponseUrl?: string;
  /**
   * PEM certificates of the keys of KeyDescriptors usable for signing (use="signing" or no use): of
   * each X509Data the certificates holding its key, never the CA certificates of its chain (ADR 0244).
   */
  signingCertificatesPem: string[];
  /**
   * The earliest `validUntil` of the document, the entity and its IDPSSODescriptor (metadata 2.3.1):
   * past it, the metadata must not be used.
   */
  validUntil?: Date;
  /** The shortest `cacheDuration` among them, in ms: how long a copy may be used before reading again. */
  cacheDurationMs?: number;
}

/** Metadata of one IdP is a few kilobytes; a federation's aggregate is not what a tenant names. */
export const MAX_METADATA_BYTES = 1024 * 1024;

/**
 * Reads an IdP's SAML metadata (an EntityDescriptor, or an EntitiesDescriptor holding exactly one
 * IdP). Only what the broker needs: entityID, Redirect SSO/SLO endpoints and signing certificates.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  let doc: Document;
  try {
    doc = parseSamlXml(xml, { maxBytes: MAX_METADATA_BYTES });
  } catch (cause) {
    // The IdP's document is at fault, not the request: a DTD, a nesting bomb or bad XML is 502.
    throw new SamlError(
      'SAML_METADATA_INVALID',
      `the IdP metadata is refused (${cause instanceof SamlError ? cause.code : 'unparsable'})`,
      { status: 502, cause },
    );
  }
  const root = doc.documentElement!;
  const entities = isNamed(root, NS.metadata, 'EntityDescriptor')
    ? [root]
    : descendants(root, NS.metadata, 'EntityDescriptor');
  const idps = entities.filter((e) => idpDescriptor(e) !== undefined);
  if (idps.length !== 1) throw invalid('the metadata must describe exactly one SAML 2.0 identity provider');
  const entity = idps[0]!;
  const descriptor = idpDescriptor(entity)!;
  const entityId = attribute(entity, 'entityID');
  if (!entityId) throw invalid('the EntityDescriptor has no entityID');
  const ssoUrl = endpoint(descriptor, 'SingleSignOnService');
  if (!ssoUrl) throw invalid('the IdP has no HTTP-Redirect SingleSignOnService');
  const signingCertificatesPem = childElements(descriptor, NS.metadata, 'KeyDescriptor')
    .filter((k) => (attribute(k, 'use') ?? 'signing') === 'signing')
    .flatMap((k) => descendants(k, NS.dsig, 'X509Data'))
    .map((data) => childElements(data, NS.dsig, 'X509Certificate').map((c) => pemOf(simpleText(c))))
    .filter((certificates) => certificates.length > 0)
    .flatMap(keyCertificatesOf);
  if (signingCertificatesPem.length === 0) throw invalid('the IdP metadata has no signing certificate');
  const metadata: IdpMetadata = { entityId, ssoUrl, signingCertificatesPem };
  const slo = redirectEndpoint(descriptor, 'SingleLogoutService');
  const sloUrl = slo && attribute(slo, 'Location');
  if (sloUrl) {
    metadata.sloUrl = sloUrl;
    const sloResponseUrl = attribute(slo, 'ResponseLocation');
    if (sloResponseUrl) metadata.sloResponseUrl = sloResponseUrl;
  }
  // The root, the entity and the descriptor may each limit the whole (they may be the same element).
  const scopes = [...new Set([root, entity, descriptor])];
  const validUntil = earliest(scopes.map((e) => attribute(e, 'validUntil')).map(dateTimeOf));
  if (validUntil !== undefined) metadata.validUntil = new Date(validUntil);
  const cacheDurationMs = earliest(scopes.map((e) => attribute(e, 'cacheDuration')).map(durationMsOf));
  if (cacheDurationMs !== undefined) metadata.cacheDurationMs = cacheDurationMs;
  return metadata;
}

function earliest(values: ReadonlyArray<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length > 0 ? Math.min(...present) : undefined;
}

/** An xs:dateTime `validUntil`, in ms; SAML times are UTC (core 1.3.3), so a zone is required. */
function dateTimeOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(ms))
    throw invalid('the metadata has a validUntil that is not an xs:dateTime with a time zone');
  return ms;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * An xs:duration `cacheDuration`, in ms (a year taken as 365 days, a month as 30: only an upper
 * bound of caching rides on it). Negative or empty durations are not durations a cache can have.
 */
function durationMsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = DURATION.exec(value);
  if (!match || value === 'P' || value.endsWith('T'))
    throw invalid('the metadata has a cacheDuration that is not a positive xs:duration');
  const [, years, months, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  const totalDays = years! * 365 + months! * 30 + days!;
  return ((totalDays * 24 + hours!) * 60 + minutes!) * 60_000 + seconds! * 1000;
}

function idpDescriptor(entity: Element): Element | undefined {
  return childElements(entity, NS.metadata, 'IDPSSODescriptor').find((d) =>
    (attribute(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol),
  );
}

function redirectEndpoint(descriptor: Element, name: string): Element | undefined {
  return childElements(descriptor, NS.metadata, name).find(
    (e) => attribute(e, 'Binding') === BINDING_REDIRECT,
  );
}

function endpoint(descriptor: Element, name: string): string | undefined {
  const redirect = redirectEndpoint(descriptor, name);
  return redirect ? attribute(redirect, 'Location') : undefined;
}

/**
 * The certificates of an X509Data that hold a key. XML-DSig (X509Data): "All certificates appearing
 * in an X509Data element MUST relate to the validation key by either containing it or being part of a
 * certification chain that terminates in a certificate containing the validation key", in no set
 * order. So the key is in a certificate that issued none of the others; those that did are its chain,
 * and a CA's key verifies no message (OpenSAML takes one end-entity certificate per X509Data). An
 * X509Data of several certificates no one of which issued another breaks that rule (two keys, as an
 * IdP may publish during a rollover): each is kept, as before ADR 0244 and as samlify does, where
 * refusing the IdP's metadata would stop its sign-ins; only an issuer is never trusted.
 */
function keyCertificatesOf(pems: string[]): string[] {
  const distinct = [...new Set(pems)];
  if (distinct.length === 1) return distinct;
  const certificates = distinct.map((pem) => new X509Certificate(pem));
  const issuedAnother = (issuer: X509Certificate) =>
    certificates.some((c) => c !== issuer && c.checkIssued(issuer) && c.verify(issuer.publicKey));
  const ends = distinct.filter((_, i) => !issuedAnother(certificates[i]!));
  if (ends.length === 0) throw invalid('an X509Data holds certificates that each issued another');
  return ends;
}

function pemOf(base64: string): string {
  try {
    const der = certificateBase64(base64);
    return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  } catch (cause) {
    throw new SamlError('SAML_METADATA_INVALID', 'a certificate in the metadata is not valid', { cause });
  }
}

function invalid(message: string): SamlError {
  return new SamlError('SAML_METADATA_INVALID', message, { status: 502 });
}

export interface SpMetadataOptions {
  entityId: string;
  acsUrl: string;
  sloUrl?: string;
  /** SingleLogoutService for the SOAP binding: where back-channel LogoutRequests are accepted. */
  soapSloUrl?: string;
  signingCertPem: string;
  /** Published next to the current certificate ahead of a key rollover. */
  nextSigningCertPem?: string;
  /** Certificates IdPs may encrypt assertions to, active first (ADR 0338); none: no encryption offered. */
  encryptionCertificatesPem?: readonly string[];
  /** AES-CBC offered beside AES-GCM: the tenant has one SAML IdP, the one CBC is taken from (ADR 0350). */
  cbcOffered?: boolean;
  wantAssertionsSigned?: boolean;
}

/** SP metadata (HTTP-POST ACS, Redirect SLO, SOAP SLO when offered), AuthnRequests signed. */
export function buildSpMetadata(options: SpMetadataOptions): string {
  const keys =
    signingKeyDescriptors(
      [options.signingCertPem, options.nextSigningCertPem]
        .filter((c): c is string => c !== undefined)
        .map((cert) => certificateBase64(cert)),
    ) +
    encryptionKeyDescriptors(
      (options.encryptionCertificatesPem ?? []).map((cert) => certificateBase64(cert)),
      options.cbcOffered === true,
    );
  const slo =
    (options.sloUrl
      ? `<md:SingleLogoutService Binding="${BINDING_REDIRECT}" Location="${attr(options.sloUrl)}"/>`
      : '') +
    (options.soapSloUrl
      ? `<md:SingleLogoutService Binding="${BINDING_SOAP}" Location="${attr(options.soapSloUrl)}"/>`
      : '');
  return (
    `<md:EntityDescriptor xmlns:md="${NS.metadata}" entityID="${attr(options.entityId)}">` +
    `<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="${options.wantAssertionsSigned !== false}" protocolSupportEnumeration="${NS.protocol}">` +
    keys +
    slo +
    `<md:AssertionConsumerService Binding="${BINDING_POST}" Location="${attr(options.acsUrl)}" index="0" isDefault="true"/>` +
    '</md:SPSSODescriptor></md:EntityDescriptor>'
  );
}

export interface IdpMetadataOptions {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  /** Base64 DER certificates, active first. */
  signingCertificates: readonly string[];
  nameIdFormats: readonly string[];
}

/**
 * The broker's IdP metadata for the portal: SSO over Redirect and POST, SLO over Redirect, and a
 * signing KeyDescriptor per certificate (the active one, and the next one ahead of a rollover, so
 * the portal trusts both before the switch).
 */
export function buildIdpMetadata(options: IdpMetadataOptions): string {
  const sso = attr(options.ssoUrl);
  const formats = [...new Set(options.nameIdFormats)]
    .map((f) => `<md:NameIDFormat>${text(f)}</md:NameIDFormat>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<md:EntityDescriptor xmlns:md="${NS.metadata}" entityID="${attr(options.entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="${NS.protocol}">${signingKeyDescriptors(options.signingCertificates)}` +
    `<md:SingleLogoutService Binding="${BINDING_REDIRECT}" Location="${attr(options.sloUrl)}"/>${formats}` +
    `<md:SingleSignOnService Binding="${BINDING_REDIRECT}" Location="${sso}"/>` +
    `<md:SingleSignOnService Binding="${BINDING_POST}" Location="${sso}"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>\n'
  );
}

/** One signing KeyDescriptor per base64 DER certificate. */
function signingKeyDescriptors(certificates: readonly string[]): string {
  return certificates.map((cert) => keyDescriptor('signing', cert, '')).join('');
}

/**
 * Metadata 2.4.1.1: each encryption key with the algorithms the broker decrypts (ADR 0338), so that
 * an IdP choosing among its own (Shibboleth does) picks AES-GCM and RSA-OAEP, not its defaults.
 */
function encryptionKeyDescriptors(certificates: readonly string[], cbc: boolean): string {
  const methods = acceptedEncryptionMethods(cbc)
    .map((algorithm) => `<md:EncryptionMethod Algorithm="${attr(algorithm)}"/>`)
    .join('');
  return certificates.map((cert) => keyDescriptor('encryption', cert, methods)).join('');
}

function keyDescriptor(use: 'signing' | 'encryption', cert: string, methods: string): string {
  return `<md:KeyDescriptor use="${use}"><ds:KeyInfo xmlns:ds="${NS.dsig}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>${methods}</md:KeyDescriptor>`;
}
