import { expect } from 'chai';
import { type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

/**
 * A partner IdP is in the tenant to sign in partner people, not to hand out roles: the groups it
 * asserts must not make anyone an admin or let anyone through `access.mode: groups`. The portal
 * learns which IdP signed the person in from the broker's signed `urn:jsm-sso:attribute:idp`.
 */
describe('portal: groups count only from IdPs trusted for groups', () => {
  const idp = (name: string, more: Record<string, unknown>) => ({
    name,
    attributeMapping: { email: 'claims.email', groups: 'claims.groups' },
    oidc: { issuer: `https://${name}.idp.test`, clientId: 'x', clientSecretRef: { name: 'oidc' } },
    ...more,
  });
  let h: Harness;
  before(async () => {
    h = await startHarness({
      spec: {
        identityProviders: [
          idp('corp', { emailDomains: ['acme.test'], trustGroups: true }),
          idp('partner', { emailDomains: ['partner.test'] }),
        ],
      },
    });
  });
  after(async () => {
    await h.close();
  });

  it("refuses admin to the partner IdP's assertion of the admin group (the attack)", async () => {
    const carol = await signIn(h, 'carol@partner.test', { idp: 'partner', groups: ['portal-admins'] });
    expect((await carol.fetch('/activity')).status).to.equal(404);
  });

  it('grants admin for the same group from the IdP trusted for groups', async () => {
    const alice = await signIn(h, 'alice@acme.test', { idp: 'corp', groups: ['portal-admins'] });
    expect((await alice.fetch('/activity')).status).to.equal(200);
  });

  it('refuses an assertion that names no IdP, or one the tenant does not have', async () => {
    for (const named of [null, 'elsewhere']) {
      const from = h.logs.length;
      const err = await signIn(h, 'alice@acme.test', { idp: named, groups: ['portal-admins'] }).catch(
        (e: Error) => e,
      );
      expect(String(err)).to.include('failed: 403');
      expect(reasons(h, from)).to.deep.equal(['PORTAL_IDP_UNKNOWN']);
    }
  });
});
