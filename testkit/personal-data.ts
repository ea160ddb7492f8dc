import { DEV_USERS } from '../dev/idp/users.js';
import { loadDefaultSeed } from '../dev/jsm-emulator/seed.js';

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
  // An Authorization header's credentials: the service account's `Basic base64(e-mail:API token)`,
  // an access token sent to a user endpoint.
  ['credentials of an Authorization header', /\b(?:Basic|Bearer) [A-Za-z0-9+/=._~-]{16,}/],
];

/**
 * A value a test marks as personal or secret where it has no shape to be found by: a NameID, a
 * display name, a SessionIndex, an opaque token, a client secret, a key. Any text holding it is a
 * finding, in every channel the scan reads.
 */
export const PERSONAL_MARKER = 'pii-marker';

/** The Atlassian emulator's seeded people (customers and agents) and their API tokens. */
const SEEDED_USERS = loadDefaultSeed().users;

/**
 * What the tests themselves hand the product and must not see again: the dev IdP's and the Atlassian
 * emulator's people's full names, the test broker's client secret, the emulator's API tokens (the
 * portal harness's service account's among them) and whatever a test marked.
 */
const KNOWN: readonly string[] = [
  // Once each: the dev IdP's people are the emulator's customers too.
  ...new Set([
    ...DEV_USERS.map((u) => `${u.givenName} ${u.familyName}`),
    ...SEEDED_USERS.map((u) => u.displayName),
    ...SEEDED_USERS.flatMap((u) => (u.apiToken === undefined ? [] : [u.apiToken])),
    'broker-test-secret',
    PERSONAL_MARKER,
  ]),
];

/** What of the above `text` holds, each named. */
export function personalDataIn(text: string): string[] {
  return [
    ...SHAPES.filter(([, shape]) => shape.test(text)).map(([what]) => what),
    ...KNOWN.filter((value) => text.includes(value)).map((value) => `the test value "${value}"`),
  ];
}
