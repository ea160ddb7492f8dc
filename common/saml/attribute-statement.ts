import type { Element } from '@xmldom/xmldom';
import { decryptionRefused, decryptSignedElement, type ElementDecryption } from './decryption.js';
import { NS } from './namespaces.js';
import { attribute, childElements, isElement, stringContent } from './xml.js';

/**
 * The EncryptedAttributes one Assertion may carry. Each costs up to 4 RSA operations per broker key
 * (its EncryptedKeys, ADR 0338), and only the IdP's signature stands between a message and them; an
 * IdP encrypting its attributes (Shibboleth's `encryptAttributes`) encrypts each one it releases, a
 * value list being one Attribute: a few dozen at most.
 */
const MAX_ENCRYPTED_ATTRIBUTES = 32;

/**
 * The attributes of a verified Assertion (core 2.7.3): Name -> its text values, in document order
 * (values with element content or xsi:nil are skipped). An EncryptedAttribute (core 2.7.3.2) is the
 * Attribute it holds, decrypted with `decryption` and read as a plain one: it is read from `assertion`
 * as its verified signature covers it (ADR 0355). Several Attributes of one Name, encrypted or not, are
 * one attribute's values, as two plain ones always were: none is dropped for another.
 */
export function readAttributes(assertion: Element, decryption: ElementDecryption): Record<string, string[]> {
  const statements = childElements(assertion, NS.assertion, 'AttributeStatement');
  const encrypted = statements.flatMap((s) => childElements(s, NS.assertion, 'EncryptedAttribute'));
  if (encrypted.length > MAX_ENCRYPTED_ATTRIBUTES)
    throw decryptionRefused(
      'encrypted_attribute_count',
      `an Assertion may carry at most ${MAX_ENCRYPTED_ATTRIBUTES} EncryptedAttributes`,
    );
  const attributes: Record<string, string[]> = Object.create(null);
  for (const statement of statements) {
    for (const element of Array.from(statement.childNodes).filter(isElement)) {
      const attr = plainAttribute(element, decryption);
      const name = attr && attribute(attr, 'Name');
      if (!attr || !name) continue;
      attributes[name] = [...(attributes[name] ?? []), ...textValues(attr)];
    }
  }
  return attributes;
}

/** `element` if an Attribute, the one it holds if an EncryptedAttribute; undefined for anything else. */
function plainAttribute(element: Element, decryption: ElementDecryption): Element | undefined {
  if (element.namespaceURI !== NS.assertion) return undefined;
  if (element.localName === 'Attribute') return element;
  if (element.localName === 'EncryptedAttribute') return decryptSignedElement(element, decryption);
  return undefined;
}

function textValues(attr: Element): string[] {
  return childElements(attr, NS.assertion, 'AttributeValue')
    .filter(
      (v) =>
        v.getAttributeNS(NS.xsi, 'nil') !== 'true' && !Array.from(v.childNodes).some((n) => n.nodeType === 1),
    )
    .map((v) => stringContent(v));
}
