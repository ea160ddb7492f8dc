import type { Element } from '@xmldom/xmldom';
import { decryptSignedElement, type ElementDecryption } from './decryption.js';
import { SamlError } from './errors.js';
import { NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED, NS } from './namespaces.js';
import type { NameIdQualifiers } from './response.js';
import { attribute, childElements } from './xml.js';

/**
 * The one identifier `holder` names (an Assertion's Subject, core 2.4.1; a LogoutRequest, core 3.7.1):
 * its NameID, or the NameID its EncryptedID holds (core 2.2.4, ADR 0346, 0351), never both nor two; a
 * BaseID is not read. `holder` is read as its verified signature covers it, so the EncryptedID's
 * ciphertext is its sender's and is decrypted as from a signed message (AES-CBC too, from a tenant's
 * only SAML IdP), by the decryptor of ADR 0338 and with its rules. An EncryptedID anywhere else is
 * never read.
 */
export function oneNameId(holder: Element, decryption: ElementDecryption): Element {
  const identifiers = [
    ...childElements(holder, NS.assertion, 'NameID'),
    ...childElements(holder, NS.assertion, 'EncryptedID'),
  ];
  if (identifiers.length === 0)
    throw new SamlError('SAML_NAMEID_INVALID', `the ${holder.localName} has no NameID nor EncryptedID`);
  if (identifiers.length > 1)
    throw new SamlError(
      'SAML_NAMEID_INVALID',
      `the ${holder.localName} must name one identifier: a NameID or an EncryptedID`,
    );
  const identifier = identifiers[0]!;
  return identifier.localName === 'NameID' ? identifier : decryptSignedElement(identifier, decryption);
}

/** The qualifiers written on a NameID element (core 2.2.2), those absent left out. */
export function nameIdQualifiersOf(element: Element): NameIdQualifiers {
  const nameQualifier = attribute(element, 'NameQualifier');
  const spNameQualifier = attribute(element, 'SPNameQualifier');
  const spProvidedId = attribute(element, 'SPProvidedID');
  return {
    ...(nameQualifier === undefined ? {} : { nameQualifier }),
    ...(spNameQualifier === undefined ? {} : { spNameQualifier }),
    ...(spProvidedId === undefined ? {} : { spProvidedId }),
  };
}

/** What makes a NameID one identifier beside its value (core 2.2.2): its Format and qualifiers. */
export interface NameIdentifierKind {
  /** Absent: unspecified (core 8.3.1). */
  format: string | undefined;
  /** Absent: not known (a record kept before they were), and not compared. */
  qualifiers: NameIdQualifiers | undefined;
}

/**
 * Whether a LogoutRequest's NameID `named` is the identifier `asserted` was, its value being the same
 * (core 3.7.3.1, profiles 4.4.4.1: the request names the principal with an identifier that strongly
 * matches the asserted one): the same Format, an absent one being unspecified (core 2.2.2); the same
 * NameQualifier and SPNameQualifier, an absent one standing, for a persistent or transient
 * identifier, for the party that asserted it and the one it was asserted to (core 8.3.7, 8.3.8).
 * SPProvidedID is no part of it: an alias the SP gave, not the asserting party's name (ADR 0373).
 */
export function sameNameIdentifier(
  asserted: NameIdentifierKind,
  named: NameIdentifierKind,
  parties: { asserting: string; relying: string },
): boolean {
  const format = asserted.format ?? NAMEID_UNSPECIFIED;
  if (format !== (named.format ?? NAMEID_UNSPECIFIED)) return false;
  if (asserted.qualifiers === undefined) return true;
  const implied: NameIdQualifiers =
    format === NAMEID_PERSISTENT || format === NAMEID_TRANSIENT
      ? { nameQualifier: parties.asserting, spNameQualifier: parties.relying }
      : {};
  const qualifier = (qualifiers: NameIdQualifiers | undefined, name: 'nameQualifier' | 'spNameQualifier') =>
    qualifiers?.[name] ?? implied[name];
  return (
    qualifier(asserted.qualifiers, 'nameQualifier') === qualifier(named.qualifiers, 'nameQualifier') &&
    qualifier(asserted.qualifiers, 'spNameQualifier') === qualifier(named.qualifiers, 'spNameQualifier')
  );
}
