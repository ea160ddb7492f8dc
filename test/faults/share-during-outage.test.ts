// A share action (a person or an organization added to a request or taken off it, leaving it) failing
// while Atlassian fails was answered by the request's page, which reads the request again: during an outage
// that read failed too, and the customer got the generic error page, with no word on whether the share was
// made and nothing to send again. Its page now says whether it was not made or could not be confirmed and
// keeps the choice, one click sending it again; nothing read, so the same for a key nobody has (ADR 0407).
import { expect } from 'chai';
import {
  clearOutageAfterEach,
  failEveryRead as failEveryReadOf,
  pageButKey,
} from '../../testkit/atlassian-outage.js';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

const UNREADABLE = '<h1>This request cannot be shown right now</h1>';
const NOT_CHANGED = 'Sharing was not changed.';
const UNCONFIRMED = 'We could not confirm whether sharing was changed.';
const SUMMARY = 'Printer on 3rd floor jams every morning';

describe('faults: a share action while Atlassian fails, the request’s page unreadable', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    },
    // A write's answer that never comes times out within a test's patience.
    { transport: { timeoutMs: 400, maxRetries: 0 } },
  );
  clearOutageAfterEach(() => h);

  const request = () =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === SUMMARY)!;
  const accountOf = (email: string) => h.emulator.state.userByEmail(email)!.accountId;
  const acme = () => [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!.id;

  const failEveryRead = () => failEveryReadOf(h);

  /** The kept page: why, the request unreadable, and one button that posts `action` with `field` = `value`. */
  const expectKept = (page: string, action: string, field: string, value: string, says: string) => {
    expect(page).to.contain(UNREADABLE);
    expect(page).to.contain(says);
    expect(page, 'not the error page').to.not.contain('<h1>Something went wrong</h1>');
    expect(page).to.not.contain(SUMMARY);
    expect(page).to.match(new RegExp(`<form[^>]*action="/requests/${request().key}/${action}"`));
    expect(page).to.contain(`name="${field}" value="${value}"`);
    expect(csrfOf(page)).to.be.a('string');
  };

  /** Posts the kept page's form as its button does. */
  const sendKept = (page: string, action: string, field: string, value: string) =>
    alice.post(`/requests/${request().key}/${action}`, { _csrf: csrfOf(page), [field]: value });

  it('keeps a person added whose write was made but its answer lost (500), says it could not be confirmed, and sends it again in one click', async () => {
    const key = request().key;
    const bob = accountOf('bob@acme.test');
    const page = (await alice.text(`/requests/${key}`)).body;
    h.emulator.faults.set({
      pathPrefix: `/rest/servicedeskapi/request/${key}/participant`,
      method: 'POST',
      statusAfterHandling: 500,
      times: 1,
      onArrival: failEveryRead,
    });
    const res = await alice.post(`/requests/${key}/participants/add`, {
      accountId: bob,
      _csrf: csrfOf(page),
    });
    const failed = await res.text();
    expect(res.status).to.equal(502);
    expectKept(failed, 'participants/add', 'accountId', bob, UNCONFIRMED);
    // A promise it keeps: the person was added, and sent again she is added once (below); a share has no
    // write to look for and none that arrives later twice (ADR 0442).
    expect(failed).to.contain('(it changes the request only once, however often it is sent)');
    expect(failed).to.not.contain('earlier one');
    // Never the success it cannot vouch for.
    expect(failed).to.not.contain('Sharing was updated.');
    h.emulator.faults.clear();
    const again = await sendKept(failed, 'participants/add', 'accountId', bob);
    expect([again.status, again.headers.get('location')]).to.deep.equal([303, `/requests/${key}?shared=1`]);
    expect(request().participantIds.filter((p) => p === bob)).to.have.length(1);
  });

  it('keeps a person taken off whose write timed out (ATLASSIAN_TIMEOUT), says it could not be confirmed', async () => {
    const key = request().key;
    const bob = accountOf('bob@acme.test');
    if (!request().participantIds.includes(bob)) request().participantIds.push(bob);
    const page = (await alice.text(`/requests/${key}`)).body;
    h.emulator.faults.set({
      pathPrefix: `/rest/servicedeskapi/request/${key}/participant`,
      method: 'DELETE',
      holdAnswerMs: 2000,
      times: 1,
      onArrival: failEveryRead,
    });
    const res = await alice.post(`/requests/${key}/participants/remove`, {
      accountId: bob,
      _csrf: csrfOf(page),
    });
    const failed = await res.text();
    expect(res.status).to.equal(502);
    expect(failed).to.contain('ATLASSIAN_TIMEOUT');
    expectKept(failed, 'participants/remove', 'accountId', bob, UNCONFIRMED);
  });

  it('keeps an organization added whose own visibility read failed (503), says it was not changed, and sends it again in one click', async () => {
    const key = request().key;
    const page = (await alice.text(`/requests/${key}`)).body;
    await failEveryRead();
    const res = await alice.post(`/requests/${key}/organizations/add`, {
      organizationId: acme(),
      _csrf: csrfOf(page),
    });
    const failed = await res.text();
    expect(res.status).to.equal(503);
    expectKept(failed, 'organizations/add', 'organizationId', acme(), NOT_CHANGED);
    h.emulator.faults.clear();
    const again = await sendKept(failed, 'organizations/add', 'organizationId', acme());
    expect([again.status, again.headers.get('location')]).to.deep.equal([303, `/requests/${key}?shared=1`]);
  });

  it('keeps an organization taken off whose write Atlassian refused (400): not changed', async () => {
    const key = request().key;
    const page = (await alice.text(`/requests/${key}`)).body;
    // Shared with Acme first, so that taking it off is sent.
    const shared = await alice.post(`/requests/${key}/organizations/add`, {
      organizationId: acme(),
      _csrf: csrfOf(page),
    });
    expect(shared.status).to.equal(303);
    h.emulator.faults.set({
      pathPrefix: `/rest/api/3/issue/${key}`,
      method: 'PUT',
      status: 400,
      times: 1,
      onArrival: failEveryRead,
    });
    const res = await alice.post(`/requests/${key}/organizations/remove`, {
      organizationId: acme(),
      _csrf: csrfOf(page),
    });
    expect(res.status).to.equal(400);
    expectKept(await res.text(), 'organizations/remove', 'organizationId', acme(), NOT_CHANGED);
  });

  it('answers a share action of a customer who may not see the request as one to a key nobody has, while Atlassian fails', async () => {
    const dana = await signIn(h, 'dana@globex.test');
    const csrf = csrfOf((await dana.text('/profile')).body);
    const bob = accountOf('bob@acme.test');
    await failEveryRead();
    const answer = async (k: string) => {
      const res = await dana.post(`/requests/${k}/participants/add`, { accountId: bob, _csrf: csrf });
      return pageButKey(res, k);
    };
    const hers = await answer(request().key);
    const nobodys = await answer('HELP-98765');
    expect(hers).to.deep.equal(nobodys);
    expect(hers.status).to.equal(503);
    expect(hers.page).to.contain(UNREADABLE);
    expect(hers.page).to.contain(NOT_CHANGED);
    expect(hers.page).to.not.contain(SUMMARY);
  });
});
