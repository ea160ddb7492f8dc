import { JsmSsoError } from '../../common/errors.js';
import { NAMEID_TRANSIENT } from '../../common/saml/namespaces.js';
import type { AfterAuthenticationStep } from './step.js';

/**
 * SAML core 8.3.7: a persistent identifier's value "MUST NOT exceed 256 characters". Held for every
 * format the broker asserts: an unspecified NameID is the same identifier under another name, and an
 * address longer than that is none (RFC 5321 4.5.3.1.3: a path is at most 256 octets).
 */
const MAX_NAMEID_CHARACTERS = 256;

/**
 * A control character (C0, DEL, C1), or what XML cannot carry at all (a lone surrogate, U+FFFE,
 * U+FFFF), which the Response's writer would replace with U+FFFD: two identifiers that differ there
 * would reach the portal as one.
 */
const NOT_IN_A_NAMEID = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u;

/**
 * The NameID the broker signs, whatever back end and mapping claim it came from (OIDC bounds only
 * `sub`, ADR 0301; a plain OAuth 2.0 server's and an upstream SAML IdP's values nothing), is one the
 * portal can keep as the person's identifier: at most 256 characters (code points, as XML counts
 * them), none a control character (ADR 0308). After the authority step, which writes an address in
 * its canonical form: that form is what is signed. A transient NameID the portal asked for replaces
 * the mapped value with one the broker makes (core 8.3.8, app.ts assertedNameId): the mapped value
 * is never sent, so it refuses nothing (ADR 0320).
 */
export const nameIdValueStep: AfterAuthenticationStep = {
  name: 'nameid-value',
  run(signIn) {
    if (signIn.nameIdFormatAsked === NAMEID_TRANSIENT) return signIn;
    const { nameId } = signIn.identity!;
    if (NOT_IN_A_NAMEID.test(nameId) || [...nameId].length > MAX_NAMEID_CHARACTERS) {
      throw new JsmSsoError(
        'MAPPING_NAMEID_INVALID',
        `the identity provider's value for the NameID is longer than ${MAX_NAMEID_CHARACTERS} characters or holds a control character`,
        { status: 403 },
      );
    }
    return signIn;
  },
};
