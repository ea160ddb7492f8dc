import type { SamlErrorCode } from '../../common/saml/index.js';
import { NS } from '../../common/saml/index.js';
import { editXml } from '../../testkit/saml-fixtures.js';

/**
 * The attacks on a SAML request or logout message that its signature cannot catch, because the
 * sender (or a party holding a trusted key) signs the changed message: each endpoint's tests sign
 * every one with the right key, send it to the real endpoint and assert the refusal's reason code.
 */
export interface MessageAttack {
  /** What the message is, for the test name: `refuses a LogoutRequest ${sends}`. */
  sends: string;
  reason: SamlErrorCode;
  /** The message's XML, changed; called when the test runs, so times are fresh. */
  mutate(xml: string): string;
}

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** Every protocol request and logout message (common/saml acceptProtocolMessage). */
export const HEADER_ATTACKS: readonly MessageAttack[] = [
  {
    sends: 'addressed to another Destination',
    reason: 'SAML_DESTINATION_MISMATCH',
    mutate: withRootAttribute('Destination', 'https://elsewhere.example/saml'),
  },
  {
    sends: 'without a Destination',
    reason: 'SAML_DESTINATION_MISMATCH',
    mutate: withRootAttribute('Destination', undefined),
  },
  {
    sends: 'issued 20 minutes ago (stale IssueInstant)',
    reason: 'SAML_EXPIRED',
    mutate: (xml) => withRootAttribute('IssueInstant', minutesFromNow(-20))(xml),
  },
  {
    sends: 'dated 20 minutes in the future (IssueInstant beyond clock skew)',
    reason: 'SAML_NOT_YET_VALID',
    mutate: (xml) => withRootAttribute('IssueInstant', minutesFromNow(20))(xml),
  },
  {
    sends: 'of Version 1.1',
    reason: 'SAML_VERSION_UNSUPPORTED',
    mutate: withRootAttribute('Version', '1.1'),
  },
  {
    sends: 'naming another Issuer',
    reason: 'SAML_ISSUER_MISMATCH',
    mutate: withIssuer('https://evil.example/metadata'),
  },
  { sends: 'without an Issuer', reason: 'SAML_ISSUER_MISMATCH', mutate: withIssuer(undefined) },
];

/** A LogoutRequest also carries its own expiry (core 3.7.1). */
export const LOGOUT_REQUEST_ATTACKS: readonly MessageAttack[] = [
  ...HEADER_ATTACKS,
  {
    sends: 'past its NotOnOrAfter (beyond clock skew)',
    reason: 'SAML_EXPIRED',
    mutate: (xml) => withRootAttribute('NotOnOrAfter', minutesFromNow(-10))(xml),
  },
];

/** A LogoutResponse answers one request of ours. */
export const LOGOUT_RESPONSE_ATTACKS: readonly MessageAttack[] = [
  ...HEADER_ATTACKS,
  {
    sends: 'answering another LogoutRequest (InResponseTo)',
    reason: 'SAML_IN_RESPONSE_TO_MISMATCH',
    mutate: withRootAttribute('InResponseTo', '_another-request'),
  },
  {
    sends: 'answering no request (no InResponseTo)',
    reason: 'SAML_IN_RESPONSE_TO_MISMATCH',
    mutate: withRootAttribute('InResponseTo', undefined),
  },
];

/** Sets (or, with undefined, removes) an attribute of the message's root. */
export function withRootAttribute(name: string, value: string | undefined): (xml: string) => string {
  return (xml) =>
    editXml(xml, (root) => {
      if (value === undefined) root.removeAttribute(name);
      else root.setAttribute(name, value);
    });
}

/** Gives the message's Issuer another value (or, with undefined, removes it). */
function withIssuer(value: string | undefined): (xml: string) => string {
  return (xml) =>
    editXml(xml, (root) => {
      const issuer = root.getElementsByTagNameNS(NS.assertion, 'Issuer')[0]!;
      if (value === undefined) root.removeChild(issuer);
      else issuer.textContent = value;
    });
}
