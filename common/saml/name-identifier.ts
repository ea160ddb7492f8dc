import type { Element } from '@xmldom/xmldom';
import { decryptSignedElement, type ElementDecryption } from './decryption.js';
import { SamlError } from './errors.js';
import { NS } from './namespaces.js';
import { childElements } from './xml.js';

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
