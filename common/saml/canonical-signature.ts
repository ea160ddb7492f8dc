import { createHash, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { ENVELOPED_SIGNATURE, EXC_C14N } from './algorithms.js';
import { certificateBase64 } from './certificates.js';
import { NS } from './namespaces.js';

/**
 * The broker's fast signing path: enveloped XML signatures (RSA-SHA256, exc-c14n, one Reference
 * to the signed element's ID) over content that is already canonical. The key is parsed once;
 * signing is a digest, one string template and one RSA operation. The RSA operation runs on the
 * libuv threadpool (async `crypto.sign`), so the 1–3 ms it takes never blocks the event loop and
 * concurrent logins sign in parallel on several cores. This is the fast path for
 * Responses the broker writes itself (issue-response.ts); `signEnveloped` (signature.ts, xml-crypto,
 * any XML) is the general one, and every verification goes through signature.ts.
 */

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const DS_NS = NS.dsig;

/** `crypto.sign` with a callback: the RSA operation on the libuv threadpool. */
const signOnThreadpool = promisify(sign);

export interface SigningCredential {
  key: KeyObject;
  /** Base64 DER of the certificate, published in KeyInfo and metadata. */
  certificate: string;
}

export function loadSigningCredential(keyPem: string, certPem: string): SigningCredential {
  return { key: createPrivateKey(keyPem), certificate: certificateBase64(certPem) };
}

/**
 * The ds:Signature element for the element with `id`, whose canonical form without the signature
 * is `canonicalElement`. SignedInfo is built in canonical form; as a stand-alone subtree exc-c14n
 * declares the ds namespace on it, which is the only difference from its in-document text.
 */
export async function envelopedSignature(
  credential: SigningCredential,
  id: string,
  canonicalElement: string,
): Promise<string> {
  const digest = createHash('sha256').update(canonicalElement, 'utf8').digest('base64');
  const signedInfoBody =
    `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${RSA_SHA256}"></ds:SignatureMethod>` +
    `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="${ENVELOPED_SIGNATURE}"></ds:Transform>` +
    `<ds:Transform Algorithm="${EXC_C14N}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${SHA256}"></ds:DigestMethod><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
  const canonicalSignedInfo = `<ds:SignedInfo xmlns:ds="${DS_NS}">${signedInfoBody}</ds:SignedInfo>`;
  const value = (
    await signOnThreadpool('sha256', Buffer.from(canonicalSignedInfo, 'utf8'), credential.key)
  ).toString('base64');
  return (
    `<ds:Signature xmlns:ds="${DS_NS}"><ds:SignedInfo>${signedInfoBody}</ds:SignedInfo>` +
    `<ds:SignatureValue>${value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
    `${credential.certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
  );
}
