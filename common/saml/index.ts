export {
  CANONICALIZATION_ALGORITHMS,
  DIGEST_ALGORITHMS,
  type DigestAlgorithmUri,
  HOP_SIGNATURE_ALGORITHMS,
  type HopSignatureAlgorithm,
  hopSigningAlgorithm,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithmUri,
} from './algorithms.js';
export { envelopedSignature, loadSigningCredential, type SigningCredential } from './canonical-signature.js';
export { certificateBase64, toCertificatePem } from './certificates.js';
export { MAX_CLOCK_SKEW_SECONDS, MAX_MESSAGE_AGE_SECONDS, statusOf } from './checks.js';
export {
  decodePostedMessage,
  deflateRedirectPayload,
  inflateRedirectPayload,
  MAX_POSTED_FORM_BYTES,
} from './deflate.js';
export { SamlError, type SamlErrorCode, SamlStatusError } from './errors.js';
export {
  type ErrorResponseContent,
  type IssuedResponse,
  issueErrorResponse,
  issueSignedResponse,
  type ResponseContent,
} from './issue-response.js';
export {
  authnRequest,
  type BuiltMessage,
  type IdpList,
  type LogoutOutcome,
  type LogoutRequestContent,
  type LogoutResponseContent,
  logoutRequest,
  logoutResponse,
  type MessageHeader,
  type RequestedAuthnContext,
  signedRedirectUrl,
} from './messages.js';
export {
  buildIdpMetadata,
  buildSpMetadata,
  type IdpMetadata,
  type IdpMetadataOptions,
  MAX_METADATA_BYTES,
  parseIdpMetadata,
  type SpMetadataOptions,
} from './metadata.js';
export { type NameIdentifierKind, sameNameIdentifier } from './name-identifier.js';
export * from './namespaces.js';
export {
  type AcceptedMessage,
  acceptProtocolMessage,
  acceptRetriableLogoutRequest,
  type ExpectedMessage,
  isVersionRefusal,
  logoutRequestSubject,
  logoutSucceeded,
  MAX_REQUEST_BYTES,
  MESSAGE_REPLAY_WINDOW_SECONDS,
  type MessageBinding,
  OtherNameIdentifier,
  type RetriableLogoutRequest,
  refusalOutcome,
  SenderMessageRefused,
  UnsupportedVersion,
  unverifiedIssuer,
} from './protocol-message.js';
export {
  type RedirectMessageParam,
  signRedirectQuery,
  type VerifiedRedirectMessage,
  verifyRedirectSignature,
} from './redirect-binding.js';
export {
  type ExpectedAt,
  type ExpectedResponse,
  type NameIdQualifiers,
  type ProxyRestriction,
  useAssertionOnce,
  type ValidatedAssertion,
  validateSamlResponse,
  verifySamlResponse,
} from './response.js';
export { type SignEnvelopedOptions, signEnveloped, verifyEnvelopedSignature } from './signature.js';
export {
  SOAP_ACTION,
  SOAP_CONTENT_TYPE,
  SOAP_ENVELOPE_NS,
  type SoapFaultCode,
  type SoapSigning,
  signedSoapMessage,
  soapFault,
} from './soap-binding.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_ELEMENT_DEPTH,
  MAX_MESSAGE_ELEMENTS_PER_BYTE,
  parseSamlXml,
  serializeXml,
  sizeFault,
  trimXmlWhitespace,
} from './xml.js';
