// A request raised a moment ago, looked for while Jira's search index has not taken it in (ADR 0240):
// read by key past the index's newest issue, however many others were raised meanwhile.
import { expect } from 'chai';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import type { Exchange } from '../../portal/atlassian/http.js';
import { findCreatedPastTheIndex } from '../../portal/created-past-the-index.js';
import { newWriteKey, withWriteKey } from '../../portal/write-once.js';
import { validateAgainstSpec } from '../../testkit/atlassian-spec.js';

describe('portal: a request found past the search index', () => {
  let emulator: RunningJsmEmulator;
  const exchanges: Exchange[] = [];
  let client: AtlassianClient;
  before(async () => {
    emulator = await startJsmEmulator({});
    client = new AtlassianClient({
      siteUrl: emulator.url,
      ...SERVICE_ACCOUNT,
      onExchange: (e) => exchanges.push(e),
    });
  });
  afterEach(() => emulator.state.searchIndex.catchUp());
  after(async () => {
    await emulator.close();
  });

  const accountOf = (email: string) =>
    [...emulator.state.users.values()].find((u) => u.email === email)!.accountId;
  const desk = () => [...emulator.state.serviceDesks.values()].find((d) => d.projectKey === 'IT')!;
  const raise = (reporter: string, description: string) =>
    client.createRequest({
      serviceDeskId: desk().id,
      requestTypeId: [...emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id,
      requestFieldValues: { summary: 'Raised while the index lags', description },
      raiseOnBehalfOf: reporter,
    });
  const look = (writeKey: string) =>
    findCreatedPastTheIndex(
      client,
      { projectId: desk().projectId, projectKey: desk().projectKey },
      accountOf('alice@acme.test'),
      writeKey,
    );
  const calls = (from: number) => exchanges.slice(from).map((e) => `${e.method} ${e.path}`);

  it('finds it among the keys the index does not show, 150 other requests raised after it', async () => {
    emulator.state.searchIndex.hold();
    const writeKey = newWriteKey();
    const made = await raise(accountOf('alice@acme.test'), withWriteKey('Mine', writeKey));
    for (let i = 0; i < 150; i++) await raise(accountOf('bob@acme.test'), `Another ${i}`);
    const from = exchanges.length;
    expect(await look(writeKey)).to.deep.equal({ issueKey: made.issueKey, issueId: made.issueId });
    // The newest indexed issue, then the keys from just before it: the first round has it.
    expect(calls(from)).to.deep.equal([
      'POST /rest/api/3/search/jql',
      'POST /rest/api/3/issue/bulkfetch',
      'POST /rest/api/3/issue/bulkfetch',
    ]);
    const problems = exchanges
      .slice(from)
      .flatMap((e) => validateAgainstSpec(e).errors.map((err) => `${e.method} ${e.path}: ${err}`));
    expect(problems).to.deep.equal([]);
  });

  it('reads on past a round whose last keys are taken, and finds one raised after 150 others', async () => {
    emulator.state.searchIndex.hold();
    for (let i = 0; i < 150; i++) await raise(accountOf('bob@acme.test'), `Before ${i}`);
    const writeKey = newWriteKey();
    const made = await raise(accountOf('alice@acme.test'), withWriteKey('Mine', writeKey));
    expect(await look(writeKey)).to.deep.equal({ issueKey: made.issueKey, issueId: made.issueId });
  });

  it('answers nothing for a key never written, once past the end of the project, in few calls', async () => {
    emulator.state.searchIndex.hold();
    await raise(accountOf('alice@acme.test'), withWriteKey('Another of hers', newWriteKey()));
    const from = exchanges.length;
    expect(await look(newWriteKey())).to.equal(undefined);
    expect(calls(from)).to.have.length.below(5);
  });
});
