import { createPrivateKey } from 'node:crypto';
import {
  isSignatureAlgorithm,
  rawSign,
  rawVerify,
  type SignatureAlgorithmUri,
  signatureAlgorithmFor,
} from './algorithms.js';
import { trustedKeys } from './certificates.js';
import { decodeBase64, deflateRedirectPayload, inflateRedirectPayload } from './deflate.js';
import { SamlError } from './errors.js';

export type RedirectMessageParam = 'SAMLRequest' | 'SAMLResponse';

export interface VerifiedRedirectMessage {
  /** The inflated XML; parse it with parseSamlXml. */
  xml: string;
  relayState?: string;
  sigAlg: string;
}

const KNOWN_PARAMS = new Set([
  'SAMLRequest',
  'SAMLResponse',
  'RelayState',
  'SigAlg',
  'Signature',
  'SAMLEncoding',
]);
/** Bindings 3.4.4.1: the only encoding defined, and the default when SAMLEncoding is absent. */
const DEFLATE_ENCODING = 'urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE';

/** `a=b&c=d` split into raw (still percent-encoded) values; a repeated SAML parameter is refused. */
function rawParams(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  const query = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = formDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (!KNOWN_PARAMS.has(name)) continue;
    if (params.has(name)) throw new SamlError('SAML_BINDING_INVALID', `the query repeats ${name}`);
    params.set(name, value);
  }
  return params;
}

function formDecode(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (cause) {
    throw new SamlError('SAML_ENCODING_INVALID', 'the query is not valid percent-encoding', { cause });
  }
}

/**
 * Verifies an HTTP-Redirect binding signature (SAML bindings 3.4.4.1) and returns the inflated
 * message. The signed octets are the query parameters exactly as received — SAMLRequest or
 * SAMLResponse, then RelayState if present, then SigAlg — never re-encoded, because senders differ
 * in how they percent-encode. Only configured certificates are tried; `onlyAlgorithm`, when given,
 * is the one SigAlg accepted.
 */
export function verifyRedirectSignature(
  rawQuery: string,
  param: RedirectMessageParam,
  certificatesPem: readonly string[],
  onlyAlgorithm?: SignatureAlgorithmUri,
): VerifiedRedirectMessage {
  const keys = trustedKeys(certificatesPem);
  const params = rawParams(rawQuery);
  const other: RedirectMessageParam = param === 'SAMLRequest' ? 'SAMLResponse' : 'SAMLRequest';
  if (params.has(other))
    throw new SamlError('SAML_BINDING_INVALID', `the query carries both ${param} and ${other}`);
  const message = params.get(param);
  if (!message) throw new SamlError('SAML_BINDING_INVALID', `the query has no ${param}`);
  const encoding = params.get('SAMLEncoding');
  if (encoding !== undefined && formDecode(encoding) !== DEFLATE_ENCODING)
    throw new SamlError('SAML_ENCODING_INVALID', 'the message is not in the DEFLATE encoding');
  const rawSigAlg = params.get('SigAlg');
  const rawSignature = params.get('Signature');
  if (rawSigAlg === undefined || !rawSignature) {
    throw new SamlError('SAML_SIGNATURE_MISSING', 'the Redirect binding message is not signed');
  }
  const sigAlg = formDecode(rawSigAlg);
  if (!isSignatureAlgorithm(sigAlg) || (onlyAlgorithm !== undefined && sigAlg !== onlyAlgorithm)) {
    throw new SamlError(
      'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
      `signature algorithm ${sigAlg} is not accepted`,
    );
  }
  const rawRelayState = params.get('RelayState');
  const signedOctets = [
    `${param}=${message}`,
    ...(rawRelayState === undefined ? [] : [`RelayState=${rawRelayState}`]),
    `SigAlg=${rawSigAlg}`,
  ].join('&');
  const signature = decodeBase64(formDecode(rawSignature));
  if (!keys.some((key) => rawVerify(sigAlg, signedOctets, key, signature))) {
    throw new SamlError('SAML_SIGNATURE_INVALID', 'the Redirect binding signature does not verify');
  }
  const result: VerifiedRedirectMessage = { xml: inflateRedirectPayload(formDecode(message)), sigAlg };
  if (rawRelayState !== undefined) result.relayState = formDecode(rawRelayState);
  return result;
}

/**
 * Builds the signed query of an HTTP-Redirect message (without the leading `?`): deflate, base64,
 * percent-encode, then sign the octets the receiver will verify.
 */
export function signRedirectQuery(
  param: RedirectMessageParam,
  xml: string,
  options: { keyPem: string; relayState?: string; sigAlg?: SignatureAlgorithmUri },
): string {
  const key = createPrivateKey(options.keyPem);
  const sigAlg = options.sigAlg ?? signatureAlgorithmFor(key);
  const parts = [`${param}=${encodeURIComponent(deflateRedirectPayload(xml))}`];
  if (options.relayState !== undefined) parts.push(`RelayState=${encodeURIComponent(options.relayState)}`);
  parts.push(`SigAlg=${encodeURIComponent(sigAlg)}`);
  const signed = parts.join('&');
  return `${signed}&Signature=${encodeURIComponent(rawSign(sigAlg, signed, key).toString('base64'))}`;
}
