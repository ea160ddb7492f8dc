/** The dev IdP's seeded people. Password `demo` for all; the data is public and fake by design. */
export interface DevUser {
  sub: string;
  email: string;
  givenName: string;
  familyName: string;
  groups: string[];
}

export const DEV_PASSWORD = 'demo';

export const DEV_USERS: readonly DevUser[] = [
  {
    sub: 'alice',
    email: 'alice@acme.test',
    givenName: 'Alice',
    familyName: 'Anders',
    groups: ['jsm-customers', 'jsm-admins'],
  },
  { sub: 'bob', email: 'bob@acme.test', givenName: 'Bob', familyName: 'Brown', groups: ['jsm-customers'] },
  { sub: 'carol', email: 'carol@partner.test', givenName: 'Carol', familyName: 'Chen', groups: [] },
];

/**
 * The partner IdP's own rogue account: it asserts an acme.test address (and the admin group) it
 * has no authority for, so a newcomer can watch the broker refuse it (IDP_NOT_AUTHORITATIVE).
 */
const ROGUE_PARTNER_USER: DevUser = {
  sub: 'mallory',
  email: 'mallory@acme.test',
  givenName: 'Mallory',
  familyName: 'Partner',
  groups: ['jsm-admins'],
};

/**
 * `npm start` runs the dev IdP twice: `acme` (the company's IdP, acme.test people) and `partner`
 * (a partner organisation's IdP, partner.test people, plus its rogue account). `all` is one IdP
 * with every seeded person, for tests that need only one.
 */
export const DEV_REALMS = {
  all: DEV_USERS,
  acme: DEV_USERS.filter((u) => u.email.endsWith('@acme.test')),
  partner: [...DEV_USERS.filter((u) => u.email.endsWith('@partner.test')), ROGUE_PARTNER_USER],
} as const satisfies Record<string, readonly DevUser[]>;

export type DevRealm = keyof typeof DEV_REALMS;

export function claimsOf(user: DevUser): Record<string, unknown> {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: true,
    name: `${user.givenName} ${user.familyName}`,
    given_name: user.givenName,
    family_name: user.familyName,
    groups: user.groups,
  };
}
