export { boundedResponse, DEFAULT_MAX_RESPONSE_BYTES } from './bounded-body.js';
export { type CaBundleRef, caBundleFor, parseCaBundle, trustedCas } from './ca-bundle.js';
export {
  createTlsFetch,
  type OutboundInit,
  type OutboundRules,
  outboundBoundMet,
  outboundOptions,
  type TlsFetch,
  type TlsFetchOptions,
} from './client.js';
export { createHostLookup, HOST_LOOKUP_DEADLINE_MS, hostLookup } from './host-lookup.js';
export { isLoopbackHost } from './loopback.js';
export { AddressGate } from './outbound-addresses.js';
export {
  type RedisConnection,
  type RedisTlsInput,
  redisConnection,
  redisOptionsFor,
  redisTlsOptions,
} from './redis.js';
export { type TlsReloader, type TlsReloadOptions, watchServerTls } from './reload.js';
export {
  chooseServerTls,
  type FileServerTls,
  fileServerTls,
  type ServerTlsChoice,
  secretServerTls,
} from './server-tls.js';
export { HSTS_HEADER_VALUE, MIN_TLS_VERSION } from './versions.js';
