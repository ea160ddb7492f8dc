// A request type may show customers a status under another name than the workflow's (JSM's
// customer-visible status): My requests shows that name, as the request's page does, never the
// workflow's name an agent sees, and learns the names with a bounded number of reads a view, the
// rest after answering, for the next view (ADR 0286, 0293).
import { expect } from 'chai';
import { type Browser, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal: the status name a customer sees', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      const rt = h.emulator.state.requestTypes.get(request('Laptop screen flickers').requestTypeId)!;
      // Agents see the workflow's "Waiting for support"; customers of this type see "Received".
      h.emulator.state.requestTypes.set(rt.id, {
        ...rt,
        customerStatusNames: { 'Waiting for support': 'Received' },
      });
      alice = await signIn(h, 'alice@acme.test');
      // A page's budget past the test's timeout: a view that waited for a read held below could not
      // answer at all, instead of answering at its deadline as if it had not waited.
    },
    { transport: { pageBudgetMs: 120_000 } },
  );
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const rowOf = (body: string, key: string) =>
    body.split('<tr>').find((row) => row.includes(`/requests/${key}"`))!;
  const keysListed = (body: string) => [
    ...new Set([...body.matchAll(/<a href="\/requests\/([A-Z]+-[0-9]+)"/g)].map((m) => m[1]!)),
  ];
  /** The (request type, workflow status) pairs of the requests listed. */
  const pairsOf = (keys: string[]) =>
    new Set(
      keys.flatMap((key) => {
        const r = h.emulator.state.requestByIdOrKey(key)!;
        return r.requestTypeId === '' ? [] : [`${r.requestTypeId}\n${r.status}`];
      }),
    );
  const isSubset = (some: Set<string>, all: Set<string>) => [...some].every((pair) => all.has(pair));
  /** The name a customer sees for the request's status: its type's name for it, else the workflow's. */
  const customersName = (key: string) => {
    const r = h.emulator.state.requestByIdOrKey(key)!;
    return h.emulator.state.requestTypes.get(r.requestTypeId)?.customerStatusNames?.[r.status] ?? r.status;
  };

  it('lists a request under the name its page shows, never the workflow’s: a cold view waits for 5 reads at most, a view meanwhile for none queued, the next reads nothing and shows every name', async () => {
    // Reads of a request (the servicedeskapi's currentStatus) past the fifth are held: the sixth (the
    // first read after the view) until `releaseSixth`, the later ones until `releaseRest`.
    let asked = 0;
    let pairs = Number.POSITIVE_INFINITY;
    const signal = () => {
      let fire = () => {};
      const fired = new Promise<void>((resolve) => {
        fire = resolve;
      });
      return { fire, fired };
    };
    const sixthAsked = signal();
    const sixth = signal();
    const rest = signal();
    const everyPairAsked = signal();
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/request/',
      method: 'GET',
      onArrival: async () => {
        asked += 1;
        const n = asked;
        if (asked >= pairs) everyPairAsked.fire();
        if (n === 6) {
          sixthAsked.fire();
          await sixth.fired;
        } else if (n > 6) await rest.fired;
      },
    });
    try {
      const first = await alice.text('/requests?status=all');
      expect(first.status).to.equal(200);
      const laptop = request('Laptop screen flickers');
      // A row not learnt yet shows its category ("To do"), never the workflow's name.
      expect(rowOf(first.body, laptop.key)).to.not.include('Waiting for support');
      const keys = keysListed(first.body);
      pairs = pairsOf(keys).size;
      expect(pairs, 'Alice’s requests have more (type, status) pairs than a view reads').to.be.above(6);
      if (asked >= pairs) everyPairAsked.fire();
      // A view meanwhile, of a request whose pair waits its turn behind the held sixth read (the
      // page's last pair), answers without waiting for it and reads nothing of its own.
      await sixthAsked.fired;
      // The first row of the page's last (type, status) pair: read last, one after another.
      const lastPair = keys.findLast((key, i) => !isSubset(pairsOf([key]), pairsOf(keys.slice(0, i))))!;
      const summary = h.emulator.state.requestByIdOrKey(lastPair)!.fieldValues['summary'] as string;
      const meanwhile = await alice.text(`/requests?status=all&q=${encodeURIComponent(summary)}`);
      expect(meanwhile.status).to.equal(200);
      expect(meanwhile.body).to.include(`/requests/${lastPair}"`);
      expect(asked).to.equal(6);
      sixth.fire();
      rest.fire();
      // One read a pair, all asked before the next view: it asks none and shows each row's name.
      await everyPairAsked.fired;
      const second = await alice.text('/requests?status=all');
      expect(asked).to.equal(pairs);
      for (const key of keys)
        expect(rowOf(second.body, key), key).to.include(`>${customersName(key)}</span>`);
      expect(rowOf(second.body, laptop.key)).to.include('>Received</span>');
      // A type without customer names shows the workflow's.
      expect(rowOf(second.body, request('Printer on 3rd floor jams every morning').key)).to.include(
        '>In progress</span>',
      );
      expect((await alice.text(`/requests/${laptop.key}`)).body).to.include('>Received</span>');
    } finally {
      h.emulator.faults.set();
    }
  });
});
