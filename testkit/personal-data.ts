import { DEV_USERS } from '../dev/idp/users.js';

/**
 * What must never reach a log line (ADR 0246), found in text by its shape: whoever the test signed
 * in, whatever secret it configured. An address the logger masked reads `[redacted]` and is no finding.
 */
const SHAPES: ReadonlyArray<readonly [string, RegExp]> = [
  ['an e-mail address', /[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.\p{L}{2,}/u],
  // A JWT's protected header and payload (an ID, access or logout token, a client assertion).
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/],
  // Base64 of `<saml`, `<samlp:`, `<saml2p:` (PHNhbWw) and of `<?xml` (PD94bWw): a posted SAML message.
  ['a base64 SAML message', /PHNhbWw|PD94bWw/],
  ['a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['a code or token in a URL', /[?&](?:code|access_token|id_token|refresh_token|SAMLRequest|SAMLResponse)=/],
];

/**
 * What the tests themselves hand the product and must not see again: the dev IdP's people's full
 * names, the test broker's client secret and the portal harness's Atlassian API token.
 */
const KNOWN: readonly string[] = [
  ...DEV_USERS.map((u) => `${u.givenName} ${u.familyName}`),
  'broker-test-secret',
  'dev-api-token',
];

/** What of the above `text` holds, each named. */
export function personalDataIn(text: string): string[] {
  return [
    ...SHAPES.filter(([, shape]) => shape.test(text)).map(([what]) => what),
    ...KNOWN.filter((value) => text.includes(value)).map((value) => `the test value "${value}"`),
  ];
}
