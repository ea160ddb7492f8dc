import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SamlError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './xml.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (whitespace tolerated, as some senders wrap lines); refuses anything else. */
export function decodeBase64(value: string): Buffer {
  const compact = value.replace(/[\r\n\t ]/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new SamlError('SAML_ENCODING_INVALID', 'the SAML message is not valid base64');
  }
  return Buffer.from(compact, 'base64');
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
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch (cause) {
    throw new SamlError('SAML_ENCODING_INVALID', 'the SAML message is not UTF-8', { cause });
  }
}

export function deflateRedirectPayload(xml: string): string {
  return deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');
}
