export {
  CANONICALIZATION_ALGORITHMS,
  DIGEST_ALGORITHMS,
  type DigestAlgorithmUri,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithmUri,
} from './algorithms.js';
export { certificateBase64, toCertificatePem } from './certificates.js';
export { deflateRedirectPayload, inflateRedirectPayload } from './deflate.js';
export { SamlError, type SamlErrorCode } from './errors.js';
export {
  buildSpMetadata,
  escapeXml,
  type IdpMetadata,
  parseIdpMetadata,
  type SpMetadataOptions,
} from './metadata.js';
export {
  BEARER,
  BINDING_POST,
  BINDING_REDIRECT,
  NAMEID_UNSPECIFIED,
  NS,
  STATUS_SUCCESS,
} from './namespaces.js';
export {
  type RedirectMessageParam,
  signRedirectQuery,
  type VerifiedRedirectMessage,
  verifyRedirectSignature,
} from './redirect-binding.js';
export {
  type ExpectedResponse,
  MAX_CLOCK_SKEW_SECONDS,
  type ValidatedAssertion,
  validateSamlResponse,
} from './response.js';
export { type SignEnvelopedOptions, signEnveloped, verifyEnvelopedSignature } from './signature.js';
export { DEFAULT_MAX_MESSAGE_BYTES, parseSamlXml, serializeXml } from './xml.js';
