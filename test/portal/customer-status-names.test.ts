// A request type may show customers a status under another name than the workflow's (JSM's
// customer-visible status): My requests shows that name, as the request's page does, never the
// workflow's name an agent sees, and learns the names with a bounded number of reads (ADR 0286).
import { expect } from 'chai';
import { type Browser, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal: the status name a customer sees', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    const rt = h.emulator.state.requestTypes.get(request('Laptop screen flickers').requestTypeId)!;
    // Agents see the workflow's "Waiting for support"; customers of this type see "Received".
    h.emulator.state.requestTypes.set(rt.id, {
      ...rt,
      customerStatusNames: { 'Waiting for support': 'Received' },
    });
    alice = await signIn(h, 'alice@acme.test');
  });
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const rowOf = (body: string, key: string) =>
    body.split('<tr>').find((row) => row.includes(`/requests/${key}"`))!;
  const requestReads = (from: number) =>
    h.exchanges.slice(from).filter((e) => e.path.startsWith('/rest/servicedeskapi/request/')).length;

  it('lists a request under the name its page shows, never the workflow’s, at most 5 reads a view', async () => {
    const laptop = request('Laptop screen flickers');
    expect((await alice.text(`/requests/${laptop.key}`)).body).to.include('>Received</span>');
    // Alice's 16 requests have more (type, status) pairs than one view learns: a row not learnt yet
    // shows its category ("To do"), never the workflow's name.
    let row = '';
    for (let view = 0; view < 4 && !row.includes('>Received<'); view++) {
      const from = h.exchanges.length;
      const list = await alice.text('/requests?status=all');
      expect(list.status).to.equal(200);
      expect(requestReads(from)).to.be.at.most(5);
      row = rowOf(list.body, laptop.key);
      expect(row).to.not.include('Waiting for support');
    }
    expect(row).to.include('>Received</span>');
    // Learnt: a view reads nothing more, and a type without customer names shows the workflow's.
    const from = h.exchanges.length;
    const list = await alice.text('/requests?status=all');
    expect(requestReads(from)).to.equal(0);
    expect(rowOf(list.body, request('Printer on 3rd floor jams every morning').key)).to.include(
      '>In progress</span>',
    );
  });
});
