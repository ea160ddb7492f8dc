import { DOMParser, type Document, type Element, type Node, XMLSerializer } from '@xmldom/xmldom';
import { SamlError } from './errors.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

// A DTD is the door to XXE and entity expansion (billion laughs); SAML never needs one.
const DTD_MARKUP = /<!\s*(DOCTYPE|ENTITY)/i;

/**
 * Parses an untrusted SAML message. Refuses, before and while parsing: oversized input, any DTD,
 * anything the parser reports (even as a warning), and documents without exactly one root element.
 */
export function parseSamlXml(xml: string, options: { maxBytes?: number } = {}): Document {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const tooLarge = sizeFault(xml, maxBytes);
  if (tooLarge) throw tooLarge;
  const maxElements = maxElementsOf(maxBytes);
  if (DTD_MARKUP.test(xml)) throw new SamlError('SAML_DOCTYPE_FORBIDDEN', 'the SAML message contains a DTD');
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (cause) {
    throw new SamlError('SAML_XML_INVALID', 'the SAML message is not well-formed XML', { cause });
  }
  if (doc.doctype) throw new SamlError('SAML_DOCTYPE_FORBIDDEN', 'the SAML message contains a DTD');
  const roots = Array.from(doc.childNodes).filter((n) => n.nodeType === n.ELEMENT_NODE);
  const strayText = Array.from(doc.childNodes).some((n) => n.nodeType === n.TEXT_NODE && n.nodeValue?.trim());
  if (roots.length !== 1 || strayText || !doc.documentElement) {
    throw new SamlError('SAML_XML_INVALID', 'the SAML message must have exactly one root element');
  }
  assertShallowAndWithoutInstructions(doc, maxElements);
  return doc;
}

/**
 * How many elements a message may have per byte of its size limit: one per 64 bytes, 4,096 in the
 * 256 KiB of a Response, 1,024 in the 64 KiB of a request. Elements are what a signature check costs:
 * xml-crypto looks the signed element up with XPath over the whole document five times, and does so
 * before it checks the SignatureValue, so anyone could post 64,000 empty elements in 256 KiB under a
 * signature of no key and hold the process for a second (ADR 0238). A real SAML element, tags and
 * prefixes included, takes more than 64 bytes: an AttributeValue holding a group name of ten letters, 53.
 */
export const MAX_MESSAGE_ELEMENTS_PER_BYTE = 1 / 64;

/**
 * What a message is refused for before it is parsed: more than `maxBytes`, or more markup than two tags
 * per element allowed (start and end; one more for the XML declaration), refused before paying for the
 * parse. A message written with an end tag for every element, as the broker writes its own, that passes
 * this passes the count of the parsed elements too: the broker asks it of a Response before it sends
 * one, so as not to sign what the portal's ACS will refuse (ADR 0308).
 */
export function sizeFault(xml: string, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): SamlError | undefined {
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) {
    return new SamlError('SAML_MESSAGE_TOO_LARGE', `the SAML message is larger than ${maxBytes} bytes`);
  }
  const maxElements = maxElementsOf(maxBytes);
  return count(xml, '<') > 2 * maxElements + 1 ? tooManyElements(maxElements) : undefined;
}

function maxElementsOf(maxBytes: number): number {
  return Math.floor(maxBytes * MAX_MESSAGE_ELEMENTS_PER_BYTE);
}

function tooManyElements(maxElements: number): SamlError {
  return new SamlError('SAML_MESSAGE_TOO_LARGE', `the SAML message has more than ${maxElements} elements`);
}

function count(text: string, character: string): number {
  let found = 0;
  for (let at = text.indexOf(character); at !== -1; at = text.indexOf(character, at + 1)) found++;
  return found;
}

/**
 * How deep elements may nest. A SAML message or metadata document is about ten levels deep; the
 * limit leaves room for rich attribute values and extensions. Every later walk over the tree (ours,
 * xmldom's serializer, xml-crypto's canonicalization) recurses once per level, so 256 KiB of `<a>`
 * (some 36,000 levels) would otherwise overflow the stack: a 500 for anyone who can post a message.
 */
export const MAX_ELEMENT_DEPTH = 64;

/**
 * One iterative walk (it must not recurse itself) that refuses nesting beyond MAX_ELEMENT_DEPTH, more
 * than `maxElements` elements, and any processing instruction: SAML has no use for one, and
 * xml-crypto's canonicalization renders one as bare text (`a<?p b?>c` signs like `abc`), a parser
 * differential an attacker could build on.
 */
function assertShallowAndWithoutInstructions(doc: Document, maxElements: number): void {
  const pending: Array<{ node: Node; depth: number }> = [{ node: doc, depth: 0 }];
  let elements = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, depth } = next;
    if (depth > MAX_ELEMENT_DEPTH) {
      throw new SamlError(
        'SAML_XML_INVALID',
        `the SAML message nests deeper than ${MAX_ELEMENT_DEPTH} levels`,
      );
    }
    for (const child of Array.from(node.childNodes)) {
      if (
        child.nodeType === child.PROCESSING_INSTRUCTION_NODE &&
        (child as { target?: string }).target !== 'xml'
      ) {
        throw new SamlError('SAML_XML_INVALID', 'the SAML message contains a processing instruction');
      }
      if (child.nodeType === child.ELEMENT_NODE && ++elements > maxElements)
        throw tooManyElements(maxElements);
      if (child.hasChildNodes()) pending.push({ node: child, depth: depth + 1 });
    }
  }
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

export function isElement(node: Node | null | undefined): node is Element {
  return node !== null && node !== undefined && node.nodeType === 1;
}

export function isNamed(node: Node | null | undefined, ns: string, localName: string): node is Element {
  return isElement(node) && node.namespaceURI === ns && node.localName === localName;
}

/** Direct child elements named `ns:localName`, in document order. */
export function childElements(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.childNodes).filter((n): n is Element => isNamed(n, ns, localName));
}

/** The single direct child `ns:localName`; undefined when absent; refuses duplicates. */
export function optionalChild(parent: Element, ns: string, localName: string): Element | undefined {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) {
    throw new SamlError('SAML_XML_INVALID', `${parent.localName} has more than one ${localName}`);
  }
  return found[0];
}

export function requiredChild(parent: Element, ns: string, localName: string): Element {
  const child = optionalChild(parent, ns, localName);
  if (!child) throw new SamlError('SAML_XML_INVALID', `${parent.localName} has no ${localName}`);
  return child;
}

export function descendants(root: Document | Element, ns: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(ns, localName)) as Element[];
}

/**
 * The text of a simple-content element, all of it, exactly as written: for the xs:string values that
 * name a person (NameID, AttributeValue), whose whitespace is part of the value (XML Schema 2 3.2.1,
 * whiteSpace preserve), so that ` alice@example.test` stays another name than `alice@example.test`
 * (ADR 0186). Anything else inside (comment, processing instruction, element) is refused: a reader
 * that takes only the first text node would turn `user@evil.test<!---->.good.test` into
 * `user@evil.test` (CVE-2017-11427 family). Elements returned by verifyEnvelopedSignature are
 * re-parsed from canonical octets and carry no comments, so there the whole signed text is read.
 */
export function stringContent(
  element: Element,
  code: 'SAML_XML_INVALID' | 'SAML_NAMEID_INVALID' = 'SAML_XML_INVALID',
): string {
  let text = '';
  for (const node of Array.from(element.childNodes)) {
    if (node.nodeType === node.TEXT_NODE || node.nodeType === node.CDATA_SECTION_NODE)
      text += node.nodeValue ?? '';
    else throw new SamlError(code, `${element.localName} must contain text only`);
  }
  return text;
}

/**
 * The text of a simple-content element whose value is a URI, an identifier or base64 (Issuer,
 * Audience, AuthnContextClassRef, SessionIndex, a certificate), as stringContent reads it, with XML
 * whitespace (space, tab, CR, LF) around it stripped: a pretty-printer's indentation, never a
 * character of the value. String.prototype.trim would strip no-break and other Unicode spaces too.
 */
export function simpleText(element: Element, code?: 'SAML_XML_INVALID' | 'SAML_NAMEID_INVALID'): string {
  return trimXmlWhitespace(stringContent(element, code));
}

/** Strips XML's whitespace (space, tab, CR, LF) at both ends, and no other character. */
export function trimXmlWhitespace(value: string): string {
  return value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

export function attribute(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? (element.getAttribute(name) ?? undefined) : undefined;
}
