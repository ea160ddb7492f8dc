// My requests: the "Requests" filter lists each of the customer's organizations by name, as the
// native portal does, and an organization from the URL that is not the customer's widens nothing.
import { expect } from 'chai';
import { type Browser, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal My requests filter by organization', () => {
  let h: Harness;
  let bob: Browser;
  before(async () => {
    h = await startHarness({
      atlassian: {
        organizationMappings: [
          { organizationId: '1', emailDomain: 'acme.test' },
          { organizationId: '2', idpGroup: 'globex-partners' },
        ],
      },
    });
    bob = await signIn(h, 'bob@acme.test', { groups: ['globex-partners'] });
  });
  after(async () => {
    await h.close();
  });

  it('offers one entry per organization, by name', async () => {
    const page = await bob.text('/requests');
    expect(page.body).to.include('<option value="org-1">Acme Corp</option>');
    expect(page.body).to.include('<option value="org-2">Globex Partners</option>');
    expect(page.body).to.not.include('value="organization"');
  });

  it('lists the requests shared with the chosen organization only', async () => {
    const globex = await bob.text('/requests?status=all&ownership=org-2');
    expect(globex.body).to.include('<option value="org-2" selected>');
    expect(globex.body)
      .to.include('Cannot reach the partner extranet')
      .and.not.include('VPN access for travel');
    const acme = await bob.text('/requests?status=all&ownership=org-1');
    expect(acme.body)
      .to.include('VPN access for travel')
      .and.not.include('Cannot reach the partner extranet');
  });

  it('sends no search for an organization that is not the customer’s', async () => {
    const from = h.exchanges.length;
    const page = await bob.text('/requests?status=all&ownership=org-999');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('No requests found.');
    expect(h.exchanges.slice(from).filter((e) => e.path.startsWith('/rest/api/3/search/jql'))).to.deep.equal(
      [],
    );
  });
});
