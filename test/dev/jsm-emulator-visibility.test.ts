import { expect } from 'chai';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { specClient } from '../../testkit/jsm-emulator-client.js';

// biome-ignore lint/suspicious/noExplicitAny: replies are read loosely in assertions; chai checks the values and the spec validator checks the shapes
type Json = Record<string, any>;
const SD = '/rest/servicedeskapi';

describe('JSM emulator: what a customer caller may see and do', () => {
  let emulator: RunningJsmEmulator;
  const as = (who: string) =>
    specClient({ baseUrl: emulator.url, email: `${who}`, apiToken: `${who.split(/[.@]/)[0]}-dev-token` });
  const keysOf = async (who: string, query = '') =>
    (
      (await as(who)('GET', `${SD}/request?requestOwnership=ALL_REQUESTS&limit=50${query}`)).body as Json
    ).values.map((r: Json) => r.issueKey) as string[];
  const summaryKey = (summary: string) =>
    [...emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!.key;
  before(async () => {
    emulator = await startJsmEmulator({});
  });
  after(() => emulator.close());

  it('shows a customer the requests they reported', async () => {
    expect(await keysOf('erik@acme.test')).to.include(summaryKey('Locked out of my account'));
  });
  it('shows a customer the requests they participate in', async () => {
    const key = summaryKey('Wi-Fi drops in meeting room Nile');
    expect(emulator.state.requestByIdOrKey(key)!.reporterId).to.not.equal(
      emulator.state.userByEmail('bob@acme.test')!.accountId,
    );
    expect(
      (
        (await as('bob@acme.test')('GET', `${SD}/request?requestOwnership=PARTICIPATED_REQUESTS`))
          .body as Json
      ).values.map((r: Json) => r.issueKey),
    ).to.include(key);
  });
  it("shows a customer the requests shared with their organization, and not other organizations'", async () => {
    const acmeShared = summaryKey('Projector in the board room has no signal');
    const globexShared = summaryKey('Cannot reach the partner extranet');
    expect(await keysOf('alice@acme.test'))
      .to.include(acmeShared)
      .and.not.include(globexShared);
    expect(await keysOf('dana@globex.test'))
      .to.include(globexShared)
      .and.not.include(acmeShared);
    const orgOnly = (
      (await as('alice@acme.test')('GET', `${SD}/request?requestOwnership=ALL_ORGANIZATIONS`)).body as Json
    ).values.map((r: Json) => r.issueKey);
    expect(orgOnly).to.include(acmeShared);
  });
  it('shows a customer the requests raised on their behalf', async () => {
    const dana = emulator.state.userByEmail('dana@globex.test')!;
    const created = (
      await specClient({ baseUrl: emulator.url, ...SERVICE_ACCOUNT })('POST', `${SD}/request`, {
        json: {
          serviceDeskId: '2',
          requestTypeId: [...emulator.state.requestTypes.values()].find(
            (t) => t.name === 'Ask HR a question',
          )!.id,
          raiseOnBehalfOf: dana.accountId,
          requestFieldValues: { summary: 'On behalf' },
        },
      })
    ).body as Json;
    expect(await keysOf('dana@globex.test')).to.include(created.issueKey);
  });
  it('hides unrelated requests from a customer with 404', async () => {
    const key = summaryKey('Phishing e-mail pretending to be payroll');
    expect(await keysOf('erik@acme.test')).to.not.include(key);
    const reply = await as('erik@acme.test')('GET', `${SD}/request/${key}`);
    expect(reply.status).to.equal(404);
    expect((await as('erik@acme.test')('GET', `${SD}/request/${key}/comment`)).status).to.equal(404);
  });
  it('shows a customer only public comments', async () => {
    const key = summaryKey('Printer on 3rd floor jams every morning');
    const comments = ((await as('alice@acme.test')('GET', `${SD}/request/${key}/comment`)).body as Json)
      .values as Json[];
    expect(comments.length).to.be.greaterThan(0);
    expect(comments.every((c) => c.public)).to.equal(true);
    const internal = emulator.state.requestByIdOrKey(key)!.comments.find((c) => !c.public)!;
    expect(
      (await as('alice@acme.test')('GET', `${SD}/request/${key}/comment/${internal.id}`)).status,
    ).to.equal(404);
  });
  it('lists a customer only public files: none of an internal comment nor one added as internal; an agent all alike', async () => {
    const key = summaryKey('Laptop screen flickers');
    const r = emulator.state.requestByIdOrKey(key)!;
    const ian = emulator.state.userByEmail('ian.it@acme.test')!.accountId;
    r.attachments.push({
      id: '99301',
      filename: 'vendor-quote.txt',
      mimeType: 'text/plain',
      content: Buffer.from('quote'),
      authorId: ian,
      created: Date.now(),
      public: false,
    });
    const names = async (who: string) =>
      (((await as(who)('GET', `${SD}/request/${key}/attachment`)).body as Json).values as Json[]).map(
        (a) => a.filename,
      );
    try {
      expect(await names('alice@acme.test')).to.deep.equal(['flicker.txt', 'screen.png']);
      const agent = specClient({ baseUrl: emulator.url, ...SERVICE_ACCOUNT });
      const all = ((await agent('GET', `${SD}/request/${key}/attachment`)).body as Json).values as Json[];
      expect(all.map((a) => a.filename)).to.deep.equal(['flicker.txt', 'screen.png', 'vendor-quote.txt']);
      expect(Object.keys(all[2]!), 'no field tells an agent which file is public').to.not.include('public');
      expect((await as('alice@acme.test')('GET', `${SD}/request/${key}/attachment/99301`)).status).to.equal(
        404,
      );
    } finally {
      r.attachments.pop();
    }
  });
  it('refuses internal comments, raising on behalf, SLAs and admin calls to customers with 403', async () => {
    const alice = as('alice@acme.test');
    const key = summaryKey('Printer on 3rd floor jams every morning');
    expect(
      (await alice('POST', `${SD}/request/${key}/comment`, { json: { body: 'sneaky', public: false } }))
        .status,
    ).to.equal(403);
    const bob = emulator.state.userByEmail('bob@acme.test')!;
    expect(
      (
        await alice('POST', `${SD}/request`, {
          json: {
            serviceDeskId: '1',
            requestTypeId: '1',
            raiseOnBehalfOf: bob.accountId,
            requestFieldValues: { summary: 'x' },
          },
        })
      ).status,
    ).to.equal(403);
    expect((await alice('GET', `${SD}/request/${key}/sla`)).status).to.equal(403);
    expect(
      (await alice('POST', `${SD}/customer`, { json: { email: 'x@y.test', displayName: 'X' } })).status,
    ).to.equal(403);
  });
});
