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
