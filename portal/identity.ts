/**
 * From a validated SAML assertion to a portal customer: find the Atlassian account by e-mail,
 * create it when the tenant provisions on first login, apply the portal's access rule and the
 * organization mappings. The e-mail is used here and then dropped, and the IdP groups once they have
 * decided the admin flag: the session keeps the accountId, display name and organization ids only.
 */

import type { AtlassianSpec, IdentityProviderSpec, PortalSpec } from '../common/config/tenant.generated.js';
import { JsmSsoError } from '../common/errors.js';
import {
  DISPLAY_NAME_ATTRIBUTE,
  EMAIL_ATTRIBUTE,
  GROUPS_ATTRIBUTE,
  IDP_ATTRIBUTE,
} from '../common/portal-attributes.js';
import { NAMEID_EMAIL } from '../common/saml/namespaces.js';
import type { AccountGuard } from './account-guard.js';
import type { AtlassianClient } from './atlassian/client.js';
import type { PlatformUserDTO, UserDTO } from './atlassian/types.js';
import type { Audit } from './audit.js';
import { awaitSearchable, createCustomerOnce, type Provisioning } from './customer-create.js';
import { type DeskAccess, type DeskAnswers, forEachDesk } from './desk-access.js';
import { type Customer, isAccountId } from './visibility.js';

export interface AssertedPerson {
  email: string;
  displayName: string;
  /** Only groups from an IdP the tenant trusts for groups; empty otherwise. */
  groups: string[];
  /** The IdP that signed the person in (the broker's signed attribute). */
  idp: string;
}

/**
 * The IdPs whose groups count (adminGroups, access mode groups, organization mappings by group):
 * those with `trustGroups: true`, or the tenant's only IdP unless it says `trustGroups: false`.
 */
export function groupTrust(
  idps: readonly Pick<IdentityProviderSpec, 'name' | 'trustGroups'>[],
): ReadonlySet<string> {
  return new Set(idps.filter((idp) => idp.trustGroups ?? idps.length === 1).map((idp) => idp.name));
}

/**
 * Reads e-mail, display name and groups from the assertion (attribute first, emailAddress NameID
 * second), and the IdP that signed the person in, which must be one of the tenant's: its groups
 * are kept only when the tenant trusts that IdP for groups.
 */
export function assertedPerson(
  assertion: {
    nameId: string;
    nameIdFormat?: string | undefined;
    attributes: Record<string, string[]>;
  },
  idps: readonly Pick<IdentityProviderSpec, 'name' | 'trustGroups'>[],
): AssertedPerson {
  const idp = assertion.attributes[IDP_ATTRIBUTE];
  if (idp?.length !== 1 || !idps.some((i) => i.name === idp[0])) {
    throw new JsmSsoError('PORTAL_IDP_UNKNOWN', 'the sign-in did not say which sign-in method was used', {
      status: 403,
    });
  }
  const email = (
    assertion.attributes[EMAIL_ATTRIBUTE]?.[0] ??
    (assertion.nameIdFormat === NAMEID_EMAIL ? assertion.nameId : '')
  )
    .trim()
    .toLowerCase();
  if (!/^[^@\s]{1,64}@[^@\s]{1,253}$/.test(email)) {
    throw new JsmSsoError('PORTAL_EMAIL_MISSING', 'the sign-in did not say who you are (no e-mail address)', {
      status: 403,
    });
  }
  const displayName = assertion.attributes[DISPLAY_NAME_ATTRIBUTE]?.[0]?.trim() || email.split('@')[0]!;
  const groups = groupTrust(idps).has(idp[0]!) ? (assertion.attributes[GROUPS_ATTRIBUTE] ?? []) : [];
  return { email, displayName: displayName.slice(0, 255), groups, idp: idp[0]! };
}

/** `groups` mode: only members of the listed IdP groups; other modes let Atlassian decide. */
export function accessAllowed(portal: Pick<PortalSpec, 'access'>, groups: readonly string[]): boolean {
  const access = portal.access;
  if (access?.mode !== 'groups') return true;
  return (access.groups ?? []).some((g) => groups.includes(g));
}

/** Organizations the mappings want this person in, and all organizations the mappings manage. */
export function mappedOrganizations(
  mappings: AtlassianSpec['organizationMappings'],
  person: Pick<AssertedPerson, 'email' | 'groups'>,
): { wanted: Set<string>; managed: Set<string> } {
  const domain = person.email.split('@')[1] ?? '';
  const wanted = new Set<string>();
  const managed = new Set<string>();
  for (const m of mappings ?? []) {
    managed.add(m.organizationId);
    if ((m.emailDomain && m.emailDomain === domain) || (m.idpGroup && person.groups.includes(m.idpGroup))) {
      wanted.add(m.organizationId);
    }
  }
  return { wanted, managed };
}

/**
 * Desks a customer joins when the portal provisions it: those of every matching provisioning rule
 * (a rule matches when each condition it sets matches), or every portal desk when there are no rules.
 * Only the portal's own desks: a rule cannot reach a desk the portal does not serve.
 */
export function desksForNewCustomer(
  rules: AtlassianSpec['provisioningRules'],
  person: Pick<AssertedPerson, 'email' | 'groups'>,
  portalDeskIds: readonly string[],
): string[] {
  if (rules === undefined) return [...portalDeskIds];
  const domain = person.email.split('@')[1] ?? '';
  const matching = rules.filter(
    (r) =>
      (r.emailDomain !== undefined || r.idpGroup !== undefined) &&
      (r.emailDomain === undefined || r.emailDomain === domain) &&
      (r.idpGroup === undefined || person.groups.includes(r.idpGroup)),
  );
  const wanted = new Set(matching.flatMap((r) => r.serviceDeskIds));
  return portalDeskIds.filter((id) => wanted.has(id));
}

/**
 * Desks asked at once when a sign-in looks for the account among their customers: a help center of
 * many desks is searched in rounds, not one round trip a desk (ADR 0265).
 */
const DESKS_AT_ONCE = 5;

const sameEmail = (user: UserDTO, email: string) =>
  typeof user.emailAddress === 'string' &&
  user.emailAddress.toLowerCase() === email &&
  isAccountId(user.accountId);

export class CustomerResolver {
  readonly #client: AtlassianClient;
  readonly #desks: DeskAccess;
  readonly #atlassian: AtlassianSpec;
  readonly #portal: PortalSpec;
  readonly #guard: AccountGuard;
  readonly #audit: Audit;

  constructor(
    client: AtlassianClient,
    atlassian: AtlassianSpec,
    portal: PortalSpec,
    guard: AccountGuard,
    audit: Audit,
    desks: DeskAccess,
  ) {
    this.#client = client;
    this.#desks = desks;
    this.#atlassian = atlassian;
    this.#portal = portal;
    this.#guard = guard;
    this.#audit = audit;
  }

  /**
   * The account with this e-mail: the first of `deskIds`, in their order, whose customers include it
   * (`inDesk`), else the platform user search's.
   */
  async #find(
    email: string,
    deskIds: readonly string[],
    answers: DeskAnswers = new Map(),
  ): Promise<{ user: PlatformUserDTO; inDesk: boolean } | undefined> {
    const inDesk = await this.#deskCustomer(email, deskIds, answers);
    if (inDesk) return { user: inDesk, inDesk: true };
    const searched = await this.#searched(email);
    return searched ? { user: searched, inDesk: false } : undefined;
  }

  /**
   * The account with this e-mail among the customers of `deskIds`: the first desk's, in their order,
   * whose customers include it. The desks are asked `DESKS_AT_ONCE` at a time, each round read in the desks' order as
   * if asked one after another (ADR 0265): the first desk's customer is chosen, a desk that failed
   * before it fails the search, a desk after it counts for nothing. What each desk answered is put in
   * `answers`, for the sign-in not to ask it again.
   */
  async #deskCustomer(
    email: string,
    deskIds: readonly string[],
    answers: DeskAnswers,
  ): Promise<UserDTO | undefined> {
    for (let from = 0; from < deskIds.length; from += DESKS_AT_ONCE) {
      const round = deskIds.slice(from, from + DESKS_AT_ONCE);
      const settled = await Promise.allSettled(
        round.map((deskId) => this.#client.deskCustomers(deskId, email)),
      );
      settled.forEach((result, i) => {
        if (result.status === 'fulfilled') answers.set(round[i]!, result.value);
      });
      for (const result of settled) {
        if (result.status === 'rejected') throw result.reason;
        const hit = result.value.find((u) => sameEmail(u, email));
        if (hit) return hit;
      }
    }
    return undefined;
  }

  /** The account with this e-mail as the platform user search finds it: one call, most often. */
  async #searched(email: string): Promise<PlatformUserDTO | undefined> {
    const isHers = (u: PlatformUserDTO) => sameEmail(u, email);
    return (await this.#client.userSearch(email, isHers)).find(isHers);
  }

  /**
   * The Atlassian account of the customer with this e-mail address, found as a sign-in finds it
   * (the desks' customers, then the user search); undefined when there is none.
   */
  async accountIdOf(email: string, deskIds: readonly string[]): Promise<string | undefined> {
    return (await this.#find(email.toLowerCase(), deskIds))?.user.accountId;
  }

  /** Signs a person in as a customer; throws JsmSsoError with a PORTAL_* code when refused. */
  async resolve(person: AssertedPerson, deskIds: readonly string[]): Promise<Customer> {
    if (!accessAllowed(this.#portal, person.groups)) {
      throw new JsmSsoError(
        'PORTAL_ACCESS_DENIED',
        'your account is not in a group allowed to use this help center',
        {
          status: 403,
        },
      );
    }
    this.#guard.checkEmail(person.email);
    const provision = (this.#atlassian.customerProvisioning ?? 'createOnFirstLogin') === 'createOnFirstLogin';
    // Each desk's customers searched by this e-mail, once a sign-in: which desks it may use is read here too.
    let answers: DeskAnswers = new Map();
    let found = await this.#find(person.email, deskIds, answers);
    let provisioning: Provisioning | undefined;
    if (!found) {
      if (!provision) {
        throw new JsmSsoError('PORTAL_CUSTOMER_UNKNOWN', 'this help center does not know your account yet', {
          status: 403,
        });
      }
      const made = await createCustomerOnce(() =>
        this.#client.createCustomer(person.email, person.displayName),
      );
      provisioning = made.provisioning;
      if ('user' in made) found = { user: made.user, inDesk: false };
      else {
        // The account is there; the user search finds it once it has caught up (ADR 0372). Each look
        // is that search alone, and the desks, a round trip for every few, are searched once it has
        // found it (ADR 0387): someone else may have made the account and put it on a desk.
        const searched = await awaitSearchable(() => this.#searched(person.email));
        answers = new Map();
        const inDesk = await this.#deskCustomer(person.email, deskIds, answers);
        found = inDesk ? { user: inDesk, inDesk: true } : { user: searched, inDesk: false };
      }
    }
    const { user } = found;
    if (!isAccountId(user.accountId))
      throw new JsmSsoError('PORTAL_ACCOUNT_INVALID', 'unexpected account id', { status: 502 });
    if (provisioning) this.#audit({ action: provisioning, accountId: user.accountId });
    // Before anything is changed for this account (desks, organizations) or a session is made.
    await this.#guard.check(user);
    let joining: string[] = [];
    if (!found.inDesk && provision) {
      joining = desksForNewCustomer(this.#atlassian.provisioningRules, person, deskIds);
      await forEachDesk(joining, (deskId) => this.#client.addCustomersToDesk(deskId, [user.accountId]));
      if (joining.length > 0)
        this.#audit({ action: 'desks_joined', accountId: user.accountId, serviceDeskIds: joining });
    }
    const organizationIds = await this.#syncOrganizations(user.accountId, person);
    const ties = await this.#desks.decide(
      { accountId: user.accountId, email: person.email },
      organizationIds,
      deskIds,
      joining,
      answers,
    );
    return {
      accountId: user.accountId,
      displayName: user.displayName || person.displayName,
      organizationIds,
      ...ties,
    };
  }

  async #syncOrganizations(accountId: string, person: AssertedPerson): Promise<string[]> {
    const current = new Set((await this.#client.organizationsOf(accountId)).map((o) => o.id));
    const { wanted, managed } = mappedOrganizations(this.#atlassian.organizationMappings, person);
    for (const id of wanted) {
      if (!current.has(id)) {
        await this.#client.addToOrganization(id, [accountId]);
        this.#audit({ action: 'organization_joined', accountId, organizationId: id });
        current.add(id);
      }
    }
    for (const id of managed) {
      if (!wanted.has(id) && current.has(id)) {
        await this.#client.removeFromOrganization(id, [accountId]);
        this.#audit({ action: 'organization_left', accountId, organizationId: id });
        current.delete(id);
      }
    }
    return [...current].filter((id) => /^[0-9]{1,18}$/.test(id));
  }
}
