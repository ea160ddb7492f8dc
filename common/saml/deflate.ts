import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SamlError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './xml.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** SAML bindings 3.4.3 / 3.5.3: RelayState MUST NOT exceed 80 bytes. */
export const MAX_RELAY_STATE_BYTES = 80;

/**
 * The longest HTTP-POST binding form (application/x-www-form-urlencoded, bindings 3.5.4) that carries
 * a message decodePostedMessage reads and its RelayState: a browser writes base64's `+`, `/` and `=`,
 * and any octet of a RelayState, as three characters (`%2B`), so the form may be three times as long
 * as what it carries. A receiver's body limit below it refuses messages within the sender's bounds:
 * a Response of 256 KiB posted as 400 KB was 413 at the portal's ACS, signed and sent by the broker
 * (ADR 0317).
 */
export const MAX_POSTED_FORM_BYTES =
  'SAMLResponse=&RelayState='.length +
  3 * (Math.ceil(DEFAULT_MAX_MESSAGE_BYTES / 3) * 4 + MAX_RELAY_STATE_BYTES);

/** Strict base64 (whitespace tolerated, as some senders wrap lines); refuses anything else. */
export function decodeBase64(value: string): Buffer {
  const octets = strictBase64(value);
  if (!octets) throw new SamlError('SAML_ENCODING_INVALID', 'the SAML message is not valid base64');
  return octets;
}

/**
 * The octets of `value` as strict base64 with XML's whitespace anywhere (xs:base64Binary), undefined
 * for anything else. Buffer.from(value, 'base64') alone skips characters outside the alphabet and
 * stops at the first `=`, so other text than was written would decode to the same octets.
 */
export function strictBase64(value: string): Buffer | undefined {
  const compact = value.replace(/[\r\n\t ]/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/**
 * Decodes an HTTP-POST binding message (bindings 3.5.4): strict base64, at most `maxBytes` once
 * decoded (judged before decoding, so an oversized field costs nothing), and strict UTF-8: bytes
 * that are not UTF-8 are refused, not read as replacement characters.
 */
export function decodePostedMessage(base64: string, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): string {
  if (base64.replace(/[\r\n\t ]/g, '').length > Math.ceil(maxBytes / 3) * 4) {
    throw new SamlError('SAML_MESSAGE_TOO_LARGE', `the SAML message is larger than ${maxBytes} bytes`);
  }
  return utf8(decodeBase64(base64));
}

function utf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new SamlError('SAML_ENCODING_INVALID', 'the SAML message is not UTF-8', { cause });
  }
}

/**
 * Decodes an HTTP-Redirect payload (base64 of raw DEFLATE, bindings 3.4.4.1). Inflation stops at
 * `maxInflatedBytes` so a small deflate bomb cannot exhaust memory.
 */
export function inflateRedirectPayload(base64: string, options: { maxInflatedBytes?: number } = {}): string {
  const maxInflatedBytes = options.maxInflatedBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const compressed = decodeBase64(base64);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(compressed, { maxOutputLength: maxInflatedBytes });
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SamlError(
        'SAML_DEFLATE_LIMIT',
        `the SAML message inflates beyond ${maxInflatedBytes} bytes`,
        { cause },
      );
    }
    throw new SamlError('SAML_ENCODING_INVALID', 'the SAML message is not valid DEFLATE data', { cause });
  }
  return utf8(inflated);
}

export function deflateRedirectPayload(xml: string): string {
  return deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');
}
