/**
 * Every reason code the product emits, as closed sets per part. The code is the contract: tests,
 * logs, metrics and the external suites assert these strings, so a code is never renamed. Each
 * set maps its codes to the one-line meaning that `npm run gen` writes into the part's README
 * (scripts/gen-error-docs.ts); adding a code means adding its meaning here. The operator's reasons
 * are its reconcile failure reasons, in operator/errors.ts (FAILURE_REASONS), generated the same way.
 */

/** Shared by the parts (the operator too, at start): configuration, TLS, Redis and the flow store. */
export const COMMON_CODES = {
  CONFIG_INVALID: 'The configuration breaks the schema or a cross-field rule; each bad field is named',
  CONFIG_FILE_UNREADABLE: 'The configuration file cannot be read or parsed',
  TENANT_UID_INVALID:
    "A tenant document's metadata.uid is no Kubernetes label value (a `:`, `@`, `{` or `}` in it, say): the tenant is refused (CONFIG_INVALID naming the field), since it would make its store keys ambiguous or a Redis Cluster hash tag (a pool's uid comes from a projection's label, which the API server holds to a label value; ADR 0379)",
  SECRET_REF_INVALID: 'A secret reference is malformed',
  SECRET_MISSING:
    'A referenced secret file or variable is absent or empty (500 when a request needs it; the log line names the Secret and key)',
  TLS_FILES_INCOMPLETE: 'Only one of the TLS certificate and key is configured',
  TLS_FILE_UNREADABLE: 'A TLS certificate or key file cannot be read',
  TLS_CA_BUNDLE_INVALID: 'A CA bundle holds no usable certificate',
  TLS_RELOAD_FAILED: 'Rotated TLS files could not be loaded; the previous ones stay in use',
  TLS_HANDSHAKE_TIMEOUT:
    'A TLS client did not finish its handshake within the headers timeout (20 s) of connecting: the connection is closed (a slowloris below HTTP)',
  IDLE_CONNECTIONS_CAPPED:
    'More keep-alive connections sat idle at once than the bound (4,096): the longest-idle was closed (logged at most once a minute)',
  ANSWER_NOT_TAKEN:
    'A client took no byte of the answers it asked for within 60 s (it stopped reading, or pipelined requests and read none of their answers): its connection is closed and the answers waiting on it dropped (logged at most once a minute; ADR 0394)',
  PORT_UNAVAILABLE:
    "A port the process is to listen on cannot be opened: another process holds it (EADDRINUSE), the process may not open it (EACCES: below 1024 without CAP_NET_BIND_SERVICE) or the address is not this host's (EADDRNOTAVAIL). One fatal line (server.listen_failed) names the server, host, port, the error and the flag that sets the port (--port, --management-port); the process exits 3",
  OPERATOR_HASH_KEY_INVALID:
    "The operator's hash key Secret (`--hash-key-secret`, in its own namespace) holds fewer than 32 bytes under `key`, or was deleted as it was created: the operator exits 1 at start with one line naming the Secret; delete it and the operator creates one (ADR 0315)",
  OPERATOR_API_ACCESS_DENIED:
    "The API server refused the operator at start, reading or creating its hash key Secret: its credentials (401: the kubeconfig's or the service account's token is invalid or expired), their permission (403 from RBAC: it lacks get or create on Secrets in its own namespace) or the Secret itself (403 or 422 from an admission policy, a webhook or a quota, which the answer names: let it, or create the Secret yourself). No retry heals it: the operator exits 1 with one line naming the request and the API server's answer (ADR 0332, ADR 0335)",
  CLUSTER_ACCESS_MISSING:
    "A process that reaches the API server has no way to: no --kubeconfig (or KUBECONFIG) and not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT unset, or the service account's CA file unreadable), or the kubeconfig file is unreadable or names no cluster with a server, or a file it names (its certificate-authority, client-certificate, client-key or tokenFile) or the service account's token is unreadable. Exit 1 with one line at start, never taken for an API server that does not answer (ADR 0332, ADR 0336); a token file unreadable later fails each request with it, retried as any failed request",
  TLS_PLAINTEXT_FORBIDDEN: 'An outbound call to a plain http:// URL where https is required',
  OUTBOUND_ADDRESS_FORBIDDEN:
    "An outbound call's host is, or resolves only to, an address that is not publicly reachable (private, loopback, link-local, the cloud metadata address ...) and not in --outbound-allowed-networks, in a process run with --outbound-public-only (a pool's pods): nothing is sent (502, ADR 0219)",
  UPSTREAM_RESPONSE_TOO_LARGE:
    "An upstream's answer (IdP discovery, JWKS, token, userinfo or metadata: 1 MiB; Atlassian API: 8 MiB) is larger than the call reads, decompressed: the connection is dropped at the limit (502)",
  UPSTREAM_DNS_TIMEOUT:
    "An outbound call's host name (an IdP's, the Atlassian site's) got no answer from the system resolver within 8 s: the call ends (502); the lookup goes on, one per name at a time, so other names still resolve (ADR 0206)",
  UPSTREAM_RESPONSE_ENCODING_INVALID:
    "An IdP's answer has a Content-Encoding other than gzip, deflate or br, or one that does not decode (502)",
  SIGNING_KEY_UNSUPPORTED:
    'A SAML signing key is neither RSA of 2048 bits or more nor EC P-256 (at start-up)',
  SIGNING_KEY_ALGORITHM_MISMATCH:
    'A signing key does not fit spec.signatureAlgorithm (RSA for rsa-sha256, P-256 for ecdsa-sha256; at start-up)',
  REDIS_URL_INVALID: 'The Redis address is malformed',
  REDIS_PLAINTEXT: 'A warning, not a refusal: Redis is reached without TLS',
  REDIS_TLS_MISMATCH: 'A CA bundle or client certificate for a Redis URL that is not a TLS one',
  REDIS_CLIENT_CERT_INVALID:
    "The Redis client certificate or key does not load, or the key is not the certificate's (at start-up)",
  FLOW_STORE_UNAVAILABLE:
    "The flow store (Redis) did not answer in time, or cannot serve for now by its own answer (READONLY after a failover, LOADING, BUSY, MASTERDOWN, CLUSTERDOWN, TRYAGAIN, NOREPLICAS) (503). Redis's only: an in-memory store never answers it, so from a part meant to run on memory it means a Redis URL reached it (`spec.redis`, a pool's `--redis-url-file` or `$REDIS_URL`; ADR 0359)",
  FLOW_STORE_FULL:
    'The flow store is full: the in-memory store reached its entry limit with no session left to make room (ADR 0357), or Redis holds its maxmemory and evicts nothing (OOM); nothing written (503 with Retry-After: 60; the page says to try again in a minute)',
  FLOW_STORE_REFUSED:
    "Redis refused the command itself (its kind, e.g. NOPERM or WRONGTYPE, and the command's name are logged as redisError and command): an ACL without the command, a key of another type, writes stopped after a failed snapshot; nothing written, until an operator acts (500, no Retry-After; the page says the service's operators have to fix it, with the code as its reference)",
  FLOW_STORE_SESSIONS_EVICTED:
    "A warning, not a refusal, logged once per tenant: the in-memory flow store (no spec.redis) held its cap, and a new entry took the room of the oldest session's (its record or a logout index): an IdP's logout no longer reaches that session, whose portal session still ends by its own timeouts; counted in jsm_sso_flow_store_sessions_evicted_total (ADR 0357)",
  FLOW_STORE_TENANT_FULL:
    "A pool tenant has used its own share of the pool's flow store: as many entries as one tenant may hold in a pool's memory (ADR 0197), or, in a portal pool, as many sign-ins as one tenant may start within one flow lifetime, counted over the pool's replicas (6,000; ADR 0215); its new sign-ins wait, other tenants' are served (503 with Retry-After: 60)",
  FLOW_STORE_CLAIMS_UNCERTAIN:
    'Redis took over recently (restarted from a snapshot, or a replica promoted) and may have lost write claims made just before: a write is refused until those would have expired, nothing written (503 with Retry-After)',
  FLOW_STORE_NOT_REPLICATED:
    'A Sentinel-managed Redis: no replica acknowledged a one-time marker (a SAML replay marker, a flow or OIDC state taken) within 200 ms (WAIT), so a failover could undo it and let it be used again; the sign-in or sign-out step is refused (503); what the master did stands (the marker kept, the flow consumed: the customer starts again), and steps go through again once a replica keeps up (ADR 0261)',
  POOL_TENANT_UNKNOWN:
    "No tenant of this pool is served at the request's Host (404; never another tenant's page)",
  POOL_HOST_INVALID:
    'A request to a pool whose host is ambiguous or malformed: two Host lines, a Host that is not host[:port], or an absolute-form target naming another host than Host (400; RFC 9112 3.2)',
  POOL_MISDIRECTED:
    "A request over TLS whose Host is another tenant's than the server name (SNI) its connection was opened for: domain fronting or a connection reused across hosts (421 Misdirected Request; the client retries on its own connection)",
  POOL_TENANT_TLS_INVALID:
    "A pooled tenant's spec.<part>.tlsSecretRef does not load (missing key, not PEM, key of another certificate): its host name gets the pool's default certificate, else the handshake fails",
  POOL_TENANT_BUSY:
    "A pooled tenant has as many requests under way in the pool process as one may (256): the request is answered at once, 503 with Retry-After: 1, and the pool's other tenants are served (ADR 0223)",
  POOL_TENANT_UNAVAILABLE:
    "A pooled tenant's part cannot be built (a secret missing or unusable): its requests answer 503 until its bundle changes",
  POOL_TENANT_CONFLICT:
    'A tenant bundle claims the host or the name of a tenant the pool serves already; it is refused, the other keeps serving',
  INFORMER_LIST_WATCH_FAILED:
    "A warning (log line informer.failed, with the collection's path, the API server's status when it answered, and err): an informer's list or watch failed: no answer, a 403 (RBAC lacks list or watch), a 404 (the collection is not served: the CRDs not installed). It lists again after a backoff (0.5 s doubling to 30 s) for as long as it takes; the process is not ready until its informers have listed once, and is once they do (the CRDs installed, the RBAC given), without a restart (ADR 0332)",
  INFORMER_HANDLER_FAILED:
    "A warning (log line informer.handler_failed, with the collection's path, the event's type and the object's namespace and name): the code an informer hands a list or watch event to threw. The informer goes on with the next events and hands that one again after a backoff (0.5 s doubling to 30 s) until it is taken or a later change of the object replaces it; a resync's event is not handed again. A bug: report it with the line's err",
  POOL_TENANT_WATCH_FAILED:
    "A warning: listing or watching the pool's tenants failed: its projection Secrets (RBAC, API server; retried with backoff) or a folder of --pool-dir (the inotify watch limit; its changes wait for the rescan every 10 s). The tenants already known keep serving",
  POOL_TENANT_WATCH_EXPIRED:
    "Information, not a fault: the watch of the pool's projection Secrets resumed from a resourceVersion the API server no longer holds (410 Gone, etcd compacted); the pool listed them again and applied what changed meanwhile",
} as const satisfies Record<string, string>;

/** SAML message checks in common/saml: every message the broker and the portal receive. */
export const SAML_CODES = {
  SAML_XML_INVALID:
    'Not well-formed, several roots, elements nested deeper than 64 levels, processing instruction, bad time value (or a NotBefore not before its NotOnOrAfter), missing required element',
  SAML_DOCTYPE_FORBIDDEN: 'DTD / ENTITY present (XXE, billion laughs)',
  SAML_MESSAGE_TOO_LARGE:
    "Message larger than the limit (256 KiB default), or of more elements than one per 64 bytes of it (4,096 in 256 KiB, 1,024 in a request's 64 KiB), judged before its signature",
  SAML_DEFLATE_LIMIT: 'Redirect payload inflates beyond the limit (deflate bomb)',
  SAML_ENCODING_INVALID:
    'Bad base64, DEFLATE, percent-encoding or UTF-8, or a SAMLEncoding other than DEFLATE',
  SAML_BINDING_INVALID:
    'Redirect query: parameter repeated, missing, or both SAMLRequest and SAMLResponse; SOAP: not an Envelope, or not one Body holding one message',
  SAML_SOAP_VERSION_MISMATCH:
    'SOAP endpoint: an Envelope of another SOAP version (1.2): SOAP fault with faultcode VersionMismatch (SOAP 1.1 4.1.2)',
  SAML_SOAP_HEADER_NOT_UNDERSTOOD:
    'SOAP endpoint: a Header block for the receiver marked mustUnderstand: SOAP fault with faultcode MustUnderstand (SOAP 1.1 4.2.3)',
  SAML_RELAY_STATE_TOO_LONG: 'RelayState longer than the 80 bytes the bindings allow (3.4.3)',
  SAML_SIGNATURE_MISSING: 'Required signature absent (stripped)',
  SAML_SIGNATURE_INVALID:
    'Signature does not verify with a configured certificate; malformed Signature (several SignedInfo, comments inside, an element other than the ds ones expected where it is, an empty DigestValue or SignatureValue), or one xml-crypto cannot read',
  SAML_SIGNATURE_ALGORITHM_FORBIDDEN: 'Algorithm / transform / c14n not on the allow-list',
  SAML_SIGNATURE_REFERENCE_INVALID:
    'Not exactly one Reference to `#ID` of the element; several Signatures; signature covers another element',
  SAML_ID_NOT_UNIQUE: 'An ID/Id/id value appears twice in the document (XSW)',
  SAML_CERTIFICATE_INVALID: 'Configured certificate missing or unparsable (500)',
  SAML_MESSAGE_TYPE_UNEXPECTED: 'Root element is not the expected message',
  SAML_VERSION_UNSUPPORTED:
    "Version is not 2.0; a request its sender signed is answered with a signed VersionMismatch (at the broker's SSO, SLO and SOAP logout endpoints, the portal's SOAP endpoint), anything else refused",
  SAML_ISSUER_MISMATCH:
    'Issuer of the message or Assertion missing (where required) or not the expected party',
  SAML_AUDIENCE_MISMATCH: 'No Conditions/AudienceRestriction, or one that does not name us',
  SAML_DESTINATION_MISMATCH:
    'Destination is not this endpoint, or missing (on a request, logout message or signed Response)',
  SAML_RECIPIENT_MISMATCH: 'Bearer Recipient is not our ACS',
  SAML_IN_RESPONSE_TO_MISMATCH:
    'A Response or LogoutResponse answers another request, or none we are waiting for (unsolicited)',
  SAML_SUBJECT_CONFIRMATION_INVALID:
    'No bearer confirmation, or its data / NotOnOrAfter missing, or its data has a NotBefore (profiles 4.1.4.2)',
  SAML_EXPIRED:
    'NotOnOrAfter (Conditions, confirmation, LogoutRequest) passed, or a request or logout message older than 5 min, beyond the 3 min skew; SessionNotOnOrAfter passed, with no skew (the session would end at once)',
  SAML_NOT_YET_VALID:
    "NotBefore, the IssueInstant of a request or logout message, or an assertion's AuthnInstant (the authentication it states), in the future beyond the skew",
  SAML_REPLAY:
    'Assertion or message ID already used (remembered in the flow store until its time checks would refuse it)',
  SAML_STATUS_NOT_SUCCESS: 'IdP answered a non-Success status',
  SAML_ASSERTION_COUNT:
    'Not exactly one Assertion in the whole document, as a direct child of Response (XSW)',
  SAML_ENCRYPTED_ASSERTION_UNSUPPORTED:
    'EncryptedAssertion, EncryptedID (in an Assertion or an upstream LogoutRequest, ADR 0351) or EncryptedAttribute (ADR 0355) present, and no decryption key is configured (spec.broker.encryptionSecretRef)',
  SAML_ASSERTION_DECRYPTION_FAILED:
    "An EncryptedAssertion, the EncryptedID of the Assertion's Subject or of an upstream IdP's LogoutRequest (ADR 0346, 0351), or an EncryptedAttribute of the Assertion (ADR 0355), that does not decrypt: a key transport other than RSA-OAEP, a content algorithm other than AES-GCM (AES-CBC only inside a verified signature from a tenant's only SAML IdP), none of the broker keys, a CipherValue that is not base64, no Assertion (one NameID, one Attribute) inside, or more than 32 EncryptedAttributes in one Assertion; one code for every cause (ADR 0338, 0342). The log lines' `detail` names what was refused (ADR 0343): key_transport_unsupported, oaep_digest_mgf_mismatch, content_algorithm_unsupported, cbc_unsigned, cbc_several_idps, cipher_value_missing, cipher_value_not_base64, encrypted_key_count, encrypted_data_count, encrypted_attribute_count, type_not_element, plaintext_not_assertion, plaintext_not_name_id, plaintext_not_attribute; does_not_decrypt for whatever depends on a key",
  SAML_LOGOUT_NAMEID_MISMATCH:
    "A signed LogoutRequest names the person's NameID value under another Format, NameQualifier or SPNameQualifier than her sessions were asserted with (an absent qualifier of a persistent or transient NameID standing for the asserting and relying party, core 8.3.7): another identifier, so none of hers ends; answered Requester/UnknownPrincipal, by the broker (ADR 0373) and by the portal to the broker's (ADR 0382)",
  SAML_NAMEID_INVALID:
    'NameID missing, empty, too long, or with element content; a Subject or a LogoutRequest naming two identifiers (NameIDs, EncryptedIDs, one of each) or none (ADR 0346, 0351)',
  SAML_AUTHN_STATEMENT_MISSING: 'No AuthnStatement (profiles 4.1.4.2)',
  SAML_CONDITION_UNSUPPORTED:
    'The assertion holds a Condition that is not understood (core 2.5.1.1: its validity is Indeterminate), or two OneTimeUse or ProxyRestriction',
  SAML_PROXY_RESTRICTED:
    "The upstream IdP's ProxyRestriction forbids the broker to assert on to the portal (Count 0, or Audiences without the portal, core 2.5.1.6); answered as Responder/RequestDenied",
  SAML_METADATA_INVALID: 'IdP metadata unusable (502)',
  SAML_METADATA_UNAVAILABLE:
    'IdP metadata cannot be fetched (connection refused or reset, a TLS failure, an error status), or not over https (502); no answer in time is IDP_CALL_TIMEOUT',
} as const satisfies Record<string, string>;

/** The broker: its SAML frontend, the login flow, the OIDC/OAuth 2.0 backends and identity checks. */
export const BROKER_CODES = {
  SAML_ACS_UNREGISTERED:
    "The AuthnRequest's AssertionConsumerServiceURL is not the portal's registered ACS, its index is not 0, or it names an index together with a URL or binding",
  SAML_BINDING_UNSUPPORTED:
    'The AuthnRequest asks for a response binding other than HTTP-POST; answered as Requester/UnsupportedBinding to the registered ACS',
  SAML_PASSIVE_NOT_POSSIBLE:
    'IsPassive with several IdPs (choice page needed), with ForceAuthn, or through a plain OAuth 2.0 IdP (no passive login); answered as NoPassive',
  SAML_FORCE_AUTHN_NOT_POSSIBLE:
    'ForceAuthn through a plain OAuth 2.0 IdP, which can neither be asked for a fresh login nor show one; answered as Responder/RequestUnsupported',
  SAML_NAMEID_POLICY_UNSUPPORTED:
    "The AuthnRequest's NameIDPolicy asks for a NameID format no IdP (or not the chosen one) is asserted with, and not transient (which the broker makes itself), or an SPNameQualifier other than the portal's; answered as Requester/InvalidNameIDPolicy",
  SAML_AUTHN_CONTEXT_NOT_MET:
    "With `spec.broker.requestedAuthnContext: Enforce`, the AuthnRequest's RequestedAuthnContext lists no class the login is asserted with (the IdP's acr, else unspecified), or asks for `better` or for declarations only; answered as Responder/NoAuthnContext",
  SAML_AUTHENTICATION_NOT_FRESH:
    "ForceAuthn through an upstream SAML IdP: its assertion's AuthnInstant is missing or before the AuthnRequest was sent (the IdP reused a session); answered as Responder/AuthnFailed",
  SAML_PROXY_COUNT_EXCEEDED:
    'The AuthnRequest forbids proxying (Scoping ProxyCount="0") and the broker only ever proxies to the tenant\'s IdP; answered as Responder/ProxyCountExceeded',
  SAML_NO_SUPPORTED_IDP:
    "The AuthnRequest's Scoping IDPList names neither the broker nor any of the tenant's IdPs (by SAML entityID or OIDC issuer), or only IdPs that cannot be read now; answered as Responder/NoSupportedIDP",
  SAML_SUBJECT_UNSUPPORTED:
    'The AuthnRequest names the principal to authenticate (a Subject), which the broker does not support; answered as Requester/RequestUnsupported',
  FLOW_UNKNOWN: 'The login flow is unknown: expired, already finished, or forged',
  FLOW_BROWSER_MISMATCH: 'The login flow was started in another browser (flow cookie missing or different)',
  FLOW_IDP_MISMATCH:
    "The IdP's answer came to another IdP's redirect URI than the one its login was sent to (RFC 9700 4.4.2 mix-up), or the IdP's entry names another issuer than when the login was sent; the flow ends",
  CSRF_TOKEN_INVALID: "The IdP choice form's CSRF token is missing or wrong",
  IDP_UNKNOWN: 'The chosen IdP is not configured for this tenant',
  LOGOUT_STATE_UNKNOWN:
    'A LogoutResponse or logout callback for no pending logout: expired, replayed or forged',
  HTTP_BODY_TOO_LARGE: 'The request body exceeds the limit (413)',
  HTTP_CLIENT_ABORTED:
    'The client went away, or was cut at the request timeout, before its request body ended (400, a refusal, not an error)',
  HTTP_FORM_EXPECTED: 'A POST endpoint got a body that is not a URL-encoded form (415)',
  HTTP_CONTENT_ENCODING_UNSUPPORTED:
    'A form or SOAP body with a Content-Encoding (gzip, deflate, br …): the broker reads bodies as sent and decompresses none, so it is refused before a byte is read (415; ADR 0404)',
  HTTP_SOAP_EXPECTED:
    'A SOAP endpoint got a body that is not a SOAP message: text/xml (or application/soap+xml) expected (415)',
  HTTP_PARAMETER_REPEATED: 'A query or form parameter appears more than once',
  METHOD_NOT_ALLOWED: 'The endpoint does not accept this HTTP method (405)',
  NOT_FOUND: 'No such endpoint (404)',
  BROKER_INTERNAL: 'An unexpected error (500); the log line has the details',
  OIDC_STATE_MISSING: "The IdP's answer has no state",
  OIDC_STATE_UNKNOWN: "The IdP's answer names no pending login (expired or forged state)",
  OIDC_STATE_REPLAYED: 'The state was already used by a completed answer',
  OIDC_ISSUER_MISMATCH: 'The `iss` response parameter is not the IdP (RFC 9207, mix-up)',
  OIDC_STATE_MISMATCH: 'The `state` response parameter is not the one sent',
  OIDC_ID_TOKEN_ISSUER_MISMATCH: 'The ID token `iss` claim is not the IdP',
  OIDC_ID_TOKEN_AUDIENCE_MISMATCH: 'The ID token `aud` / `azp` does not name the broker alone',
  OIDC_ID_TOKEN_NONCE_MISMATCH: 'The ID token `nonce` is not the one sent',
  OIDC_ID_TOKEN_HASH_MISMATCH:
    "The ID token's `at_hash` or `c_hash` is not the hash of the access token or code it came with (OIDC Core 3.1.3.8)",
  OIDC_ID_TOKEN_ALG_FORBIDDEN: 'The ID token is signed with an algorithm that is not allowed',
  OIDC_ID_TOKEN_SIGNATURE_INVALID: "The ID token signature does not verify with the IdP's keys",
  OIDC_ID_TOKEN_KEY_UNKNOWN:
    'The ID token names a signing key the IdP does not publish, even after its JWKS was read again (or it was read for an unknown key less than 10 s before: log event broker.oidc_keys_refetch_held)',
  OIDC_USERINFO_SUBJECT_MISMATCH: 'The UserInfo `sub` is not the ID token `sub`',
  OIDC_USERINFO_SIGNATURE_INVALID:
    "A signed (application/jwt) UserInfo answer does not verify with the IdP's keys and the tenant's `idTokenSigningAlg` (alg none included)",
  OIDC_USERINFO_NOT_FOR_BROKER:
    'A signed UserInfo answer lacks `iss` naming the IdP or `aud` naming the broker (OIDC Core 5.3.2)',
  OIDC_RESPONSE_INVALID:
    "Any other failed check of the IdP's answer: an ID token expired, not yet valid (`nbf`, or `iat` more than 30 s ahead) or without a required claim",
  OIDC_CODE_INVALID: "The token endpoint's `invalid_grant`: a used or expired code, or one of another flow",
  OIDC_TOKEN_TYPE_UNSUPPORTED:
    'The token endpoint answered a token_type other than Bearer (DPoP, MAC, unknown): the broker presents bearer tokens only',
  OIDC_AUTHENTICATION_NOT_FRESH:
    "A `max_age` was sent (0 for ForceAuthn or the tenant's `prompt=login`, or the tenant's own in `extraAuthorizationParams`) and the ID token has no `auth_time`, or one more than max_age before the authorization request was sent (the IdP reused an older session); answered as Responder/AuthnFailed, for a passive login Responder/NoPassive (ADR 0376)",
  OIDC_ACR_NOT_MET:
    "The tenant's `extraAuthorizationParams` sent `acr_values` and the ID token's `acr` is none of them, or absent (the IdP ignored the request, or it was dropped or changed on its way through the browser); answered as Responder/AuthnFailed",
  OIDC_IDP_ERROR: 'The IdP answered with an OAuth error; answered to the portal as a Responder status',
  OIDC_DISCOVERY_FAILED:
    "The IdP's discovery document cannot be fetched (connection refused or reset, a TLS failure, an error status) or is invalid (502); no answer in time is IDP_CALL_TIMEOUT",
  OIDC_IDP_UNAVAILABLE:
    'The IdP could not complete the sign-in: unreachable (connection refused or reset, a TLS failure) or a server error, a rate limit or a redirect (502)',
  IDP_CALL_TIMEOUT:
    'One call of a sign-in to the IdP (OIDC discovery, the token call, userinfo or the user endpoint, a JWKS read, SAML metadata) got no answer, or no end of its answer, within its own deadline, 10 s: the IdP slow, not down (502; ADR 0441)',
  IDP_SIGN_IN_TIMEOUT:
    "The IdP answered each call of a sign-in's callback in time, but together they took longer than the sign-in's budget, 15 s (502)",
  OIDC_CLIENT_KEY_UNSUPPORTED:
    'The private_key_jwt key is not a PEM private key, or of a type that is not supported (500)',
  OIDC_CLIENT_REJECTED:
    "The IdP's token endpoint refuses the broker's client credentials (`invalid_client`, `unauthorized_client`): the tenant's registration at the IdP is at fault (500)",
  OIDC_LOGOUT_TOKEN_INVALID:
    "A back-channel logout token failed a check of OpenID Connect Back-Channel Logout 1.0 section 2.6 (400 with a JSON error; the log line's `detail` names the check: missing, malformed, alg, key, signature, typ, iss, aud, iat, exp, jti, events, subject, nonce)",
  OIDC_LOGOUT_TOKEN_REPLAYED:
    'A back-channel logout token whose `jti` this IdP already sent within the token lifetime (5 min) (400)',
  OIDC_FRONTCHANNEL_LOGOUT_INVALID:
    "A front-channel logout request (OpenID Connect Front-Channel Logout 1.0) that names no IdP session or another issuer (400 page; the log line's `detail` names the check: session, issuer); it ends nothing",
  IDP_SESSION_ENDED:
    "The IdP ended the IdP session of a sign-in while the broker saved it, by a logout that found nothing yet: an OIDC back-channel or front-channel logout naming its `sid` (ADR 0170), or an upstream SAML IdP's LogoutRequest naming its SessionIndex (ADR 0171); the session saved is removed and no Response sent (403 page)",
  PORTAL_LOGOUT_UNCONFIRMED:
    'The portal did not confirm a LogoutRequest the broker sent it (unreachable, or an answer that fails the checks): a back-channel logout is answered 400 so that the IdP may try again, a front-channel one 502',
  OAUTH2_USERINFO_INVALID: "The OAuth 2.0 IdP's user endpoint answered something unusable (502)",
  IDP_NOT_AUTHORITATIVE: "The e-mail is outside the asserting IdP's domains (403)",
  IDP_EMAIL_UNVERIFIED:
    'No `email_verified: true` (SAML: one value `true` or `1`), or the e-mail is not the verified `email` claim (403)',
  IDP_EMAIL_INVALID:
    'The e-mail has no usable domain, an empty local part, a second `@`, a local part that is no dot-string (quoted, a comment) or that Unicode folding would turn into another (not NFKC, spaces, controls, invisible characters), or a domain that is not LDH or U-labels in NFKC form (URL delimiters, `%`, compatibility characters), that UTS #46 changes by more than case (ignorable marks, U+1E9E) or that ends in a number (403)',
  MAPPING_INVALID: 'An attribute mapping expression does not compile',
  MAPPING_NAMEID_EMPTY: 'The mapping produced an empty NameID (403)',
  MAPPING_ASSERTION_TOO_LARGE:
    "The mapped attributes make a Response larger than the portal's ACS reads (256 KiB, 4,096 elements: a person in thousands of groups); nothing is sent to the portal (403)",
  MAPPING_NAMEID_INVALID:
    'The mapping produced a NameID longer than 256 characters (SAML core 8.3.7) or holding a control character (C0, DEL, C1) or a character XML cannot carry (403)',
} as const satisfies Record<string, string>;

/** A failed Atlassian API call, as the portal logs it (the person sees a friendly message). */
export const ATLASSIAN_CODES = {
  ATLASSIAN_VALIDATION: 'Atlassian answered 400: some fields need attention',
  ATLASSIAN_UNAUTHORIZED: 'Atlassian answered 401: the API credentials are wrong (502)',
  ATLASSIAN_FORBIDDEN: 'Atlassian answered 403',
  ATLASSIAN_NOT_FOUND: 'Atlassian answered 404',
  ATLASSIAN_CONFLICT: 'Atlassian answered 409',
  ATLASSIAN_RATE_LIMITED: 'Atlassian answered 429 (503 to the person)',
  ATLASSIAN_UNAVAILABLE: 'Atlassian answered 502, 503 or 504 (503 to the person)',
  ATLASSIAN_TIMEOUT: 'Atlassian did not answer in time (502)',
  ATLASSIAN_PAGE_TIMEOUT:
    "Atlassian answered each call in time but the page's calls together took longer than its budget, 25 s (502)",
  ATLASSIAN_UNREACHABLE: 'Atlassian cannot be reached (502)',
  ATLASSIAN_ERROR: 'Any other Atlassian error status (502)',
  ATLASSIAN_LIST_TOO_LONG:
    "A request's participants, approvals, transitions or files (the request's, or a comment's), a customer's organizations, or a desk's customers found by the person's e-mail, run past the 10,000 the portal reads to decide what the person sees or may do: the page, post or sign-in is refused rather than decided on a part (502)",
  ATLASSIAN_BUSY:
    "The tenant's Atlassian bulkhead is full: no call slot within the wait bound, nothing sent (503, Retry-After: 5)",
} as const satisfies Record<string, string>;

/** The portal's own refusals: its pages, forms and sign-in. */
export const PORTAL_CODES = {
  PORTAL_ACCESS_DENIED: "The person is not allowed by the tenant's portal access rule (403)",
  PORTAL_ACCOUNT_INVALID: 'Atlassian answered an unexpected account id (502)',
  PORTAL_ACCOUNT_SERVICE: 'The account is a service account (the integration itself) (403)',
  PORTAL_ACCOUNT_LICENSED: 'The account is a licensed Atlassian user and allowLicensedUsers is off (403)',
  PORTAL_ACCOUNT_INACTIVE:
    'Atlassian no longer lets the account in: its access revoked, deactivated or deleted (403; a live session ends)',
  PORTAL_ACCOUNT_TYPE: 'The account type is `app` or unknown (403)',
  PORTAL_ACTION_APPROVER_ONLY: 'Only an approver of the request may take this action (403)',
  PORTAL_ACTION_INVALID: 'The action form is invalid (400)',
  PORTAL_ARTICLE_NOT_FOUND: 'The article is not offered by a portal desk (404)',
  PORTAL_BODY_ENCODING:
    'The request body has an unsupported encoding: a charset other than UTF-8, or any Content-Encoding (gzip included: the portal decompresses no request, ADR 0404) (415)',
  PORTAL_BODY_INVALID: 'The request body cannot be read (400)',
  PORTAL_BODY_TOO_LARGE:
    'The form is larger than any of the portal’s forms sends: 345 KB, a text area’s longest text URL-encoded and 64 KB more (413; the page says the longest text, ADR 0442)',
  PORTAL_BODY_TOO_MANY_PARAMETERS: 'The form has more than 100 fields (413)',
  PORTAL_CLIENT_ABORTED:
    'The client went away mid-transfer: a form or upload before its body was read (no route runs, nothing is written; ADR 0406), a file or thumbnail download before its end (info, no error; jsm_sso_portal_client_aborts_total)',
  PORTAL_COLLEAGUE_INVALID:
    'Raising a request for, or sharing it with, a person or organization outside the customer’s organizations (400)',
  PORTAL_CSRF: 'A form without the right CSRF token or from another origin (403)',
  PORTAL_CUSTOMER_UNKNOWN: 'The help center does not know the account and may not create it (403)',
  PORTAL_CUSTOMER_NOT_SEARCHABLE:
    "The sign-in's create found the account there (made by it, its answer lost, or by someone else), but Atlassian's user search did not find it within the sign-in's wait: the index lags (503, Retry-After: 10; the next sign-in finds it)",
  PORTAL_DESK_NOT_FOUND: 'No such service desk in the portal (404)',
  PORTAL_EMBEDDED_ELSEWHERE:
    'A page or file the browser asked for as part of another origin’s page (an image, a frame, a fetch: Fetch Metadata), refused before a session is read, a limit counted or Atlassian asked (403)',
  PORTAL_EMAIL_MISSING: 'The sign-in did not carry an e-mail address',
  PORTAL_FILE_VISIBILITY_UNKNOWN:
    "A file whose visibility hangs on its author's account type, which Atlassian's /rest/api/3/user/bulk could not say now (a 5xx, a 429 past what a page may wait, a timeout): not served, and not said missing (503, Retry-After; ADR 0388)",
  PORTAL_FORM_INVALID: 'The multipart form cannot be read (400)',
  PORTAL_FORM_TOO_LARGE:
    'The multipart form has too many parts, a field past a text area’s longest text (96,000 bytes), or more bytes than any form within the upload limits; read no further (413, the connection closed; the page says the longest text and file, ADR 0442)',
  PORTAL_IDP_UNKNOWN: 'The sign-in did not say which IdP was used',
  PORTAL_INTERNAL: 'An unexpected error (500); the log line has the details',
  PORTAL_INVALID_IDENTIFIER: 'Refused to build JQL from an invalid identifier',
  PORTAL_LOCALE_UNKNOWN: 'The language switcher named a locale the portal does not offer (400)',
  PORTAL_LOGIN_FLOW_MISSING: 'A SAML Response without the flow cookie of the login that asked for it',
  PORTAL_NOT_ADMIN: 'An admin page for someone who is not a portal admin (404)',
  PORTAL_NOT_FOUND: 'No such page (404)',
  PORTAL_PAGE_TOKEN_INVALID: 'A paging token that is expired or for another list (400)',
  PORTAL_RATE_LIMITED: 'Too many actions from this person or address (429)',
  PORTAL_REQUEST_MOVED:
    'The key is one the request had before it was moved: sent on to its key now (301; 307 for a form)',
  PORTAL_REQUEST_NOT_FOUND: 'No such request, or not visible to this person (404)',
  PORTAL_REQUEST_TYPE_NOT_FOUND: 'No such request type in this desk (404)',
  PORTAL_RETURN_PATH_UNSAFE:
    'A return path that is not a local path, or is the sign-in itself; the person lands on the home page',
  PORTAL_SESSION_MISSING: 'No session: signed out or expired (401)',
  PORTAL_SIGN_IN_ENDED_AT_IDP:
    "The broker's back-channel LogoutRequest ended this sign-in's SessionIndex before its Response reached the portal: the session just made is ended, the person signs in again (401; ADR 0170)",
  PORTAL_SIGN_IN_STARTS_FULL:
    'The tenant has started as many sign-ins, from all addresses together, as its spec.portal.limits.signInStarts.perTenant lets within one flow lifetime (6,000 by default), counted over its replicas: a flood from many addresses; its new sign-ins wait and nothing is written, rather than the flow store filling (503 with Retry-After: 60; the page says to try again in a minute), ADR 0256',
  PORTAL_UPLOADS_BUSY: 'Too many uploads in progress (503, Retry-After: 5)',
  PORTAL_UPLOAD_REMOVALS_BEHIND:
    "The spool folders of ended uploads still being removed (a loaded machine's file threads behind) are as many as the upload slots, the most the portal's /tmp is sized for beside the slots: nothing of this form is read (503, Retry-After: 5; ADR 0250)",
  PORTAL_DOWNLOADS_BUSY:
    "The tenant's files streaming to customers from this process are at their bound (200): a new download waits (503, Retry-After: 5; ADR 0221)",
  PORTAL_ACCOUNT_DOWNLOADS_BUSY:
    'The account has 6 downloads streaming already, as many as a browser opens to one site: another waits (429, Retry-After: 5; ADR 0221)',
  PORTAL_POOL_UPLOADS_BUSY:
    "The pool's upload spool (JsmSsoPool spec.portal.uploadSpool.maxMiB, shared by every tenant of the portal process) has no room for this form; nothing of it is read (503, Retry-After: 5), ADR 0165",
  PORTAL_POOL_SHARE_UPLOADS_BUSY:
    "This tenant's forms hold its share of the pool's upload spool (a quarter of spec.portal.uploadSpool.maxMiB) already, so the other tenants keep the rest; nothing of this one is read (503, Retry-After: 5), ADR 0211",
  PORTAL_UPLOAD_TOO_LARGE: 'An attached file is too large (413)',
  PORTAL_UPLOAD_TOO_MANY: 'Too many attached files (413)',
  PORTAL_UPLOAD_TYPE: 'A file type not on the allow-list (415)',
  PORTAL_UPLOAD_CONTENT:
    "An attached file's bytes are not of the type its extension names (another known format, or markup a browser would run), ADR 0152 (415)",
  PORTAL_UPLOAD_EMPTY: 'An attached file is empty (400)',
  PORTAL_WRITE_UNCONFIRMED:
    "An earlier post of the same form gave up on a create Atlassian may have made, and nothing found it (its search may not show it yet and the project's newest keys, read past the search, did not hold it; or the request type has no description to find it by), or on a step without a comment it may have taken (ADR 0245): nothing is written for 30 s from that give-up (502; the write may still be under way), the page and Retry-After saying the seconds left (ADR 0399); the customer checks My requests, or the request's status",
  PORTAL_WRITE_IN_PROGRESS:
    'The same form (its write key) is still being sent by an earlier post, a double click, past the wait (409); nothing is written twice',
  PORTAL_WRITE_KEY_FOREIGN:
    'A raise form for a colleague carries the write key of a request its sender neither reported nor follows as a participant, ADR 0446 (409); nothing is written, nothing of that request is shared or shown, and her answers come back on a new form',
} as const satisfies Record<string, string>;

export type CommonErrorCode = keyof typeof COMMON_CODES;
export type SamlErrorCode = keyof typeof SAML_CODES;
export type BrokerErrorCode = keyof typeof BROKER_CODES;
export type AtlassianErrorCode = keyof typeof ATLASSIAN_CODES;
export type PortalErrorCode = keyof typeof PORTAL_CODES | AtlassianErrorCode;
export type ErrorCode = CommonErrorCode | SamlErrorCode | BrokerErrorCode | PortalErrorCode;

/** Each part's codes with their meanings, for the generated README tables and the coverage test. */
export const ERROR_CODE_TABLES = {
  common: COMMON_CODES,
  saml: SAML_CODES,
  broker: BROKER_CODES,
  portal: { ...PORTAL_CODES, ...ATLASSIAN_CODES },
} as const;

/** Whether `code` is one of the portal's own refusals (not an Atlassian or shared failure). */
export function isPortalRefusal(code: string): code is keyof typeof PORTAL_CODES {
  return Object.hasOwn(PORTAL_CODES, code);
}

/** The English meaning of a code, for log lines (pages say the catalogue's text instead). */
export function meaningOf(code: string): string | undefined {
  for (const table of Object.values(ERROR_CODE_TABLES) as Record<string, string>[])
    if (Object.hasOwn(table, code)) return table[code];
  return undefined;
}
