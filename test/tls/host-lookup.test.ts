// The outbound lookup's own rules (ADR 0206, 0212), with the system resolver replaced by one the test
// answers by hand: one lookup per name at a time, a deadline per connection, the answer in the
// shape each caller asked for, names seen slow one at a time. test/faults/dns-never-answers.test.ts runs it under a real resolver.
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { expect } from 'chai';
import { createHostLookup, type ResolveAll } from '../../common/tls/host-lookup.js';

interface Asked {
  hostname: string;
  options: LookupAllOptions;
  answer: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;
}

function byHand(): { resolveAll: ResolveAll; asked: Asked[] } {
  const asked: Asked[] = [];
  return { asked, resolveAll: (hostname, options, answer) => asked.push({ hostname, options, answer }) };
}

function ask(
  lookup: ReturnType<typeof createHostLookup>,
  hostname: string,
  options: LookupOptions,
): Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve) =>
    lookup(hostname, options, (err, address, family) => resolve({ err, address, family })),
  );
}

const BOTH: LookupAddress[] = [
  { address: '2001:db8::1', family: 6 },
  { address: '192.0.2.1', family: 4 },
];

describe('the outbound host lookup', () => {
  it('asks the resolver once for calls to a name being resolved, and answers each in its shape', async () => {
    const { resolveAll, asked } = byHand();
    const lookup = createHostLookup({ resolveAll, deadlineMs: 60_000 });
    const all = ask(lookup, 'idp.acme.test', { all: true, hints: 1024 });
    const one = ask(lookup, 'idp.acme.test', { hints: 1024 });
    expect(asked).to.have.length(1);
    expect(asked[0]!.options).to.deep.equal({ all: true, hints: 1024 });
    asked[0]!.answer(null, BOTH);
    expect((await all).address).to.deep.equal(BOTH);
    expect(await one).to.deep.include({ err: null, address: '2001:db8::1', family: 6 });
    // Once answered, the next call asks again: no answer is kept.
    void ask(lookup, 'idp.acme.test', { all: true, hints: 1024 });
    expect(asked).to.have.length(2);
  });

  it('keeps lookups of other names, or of another family, apart', () => {
    const { resolveAll, asked } = byHand();
    const lookup = createHostLookup({ resolveAll, deadlineMs: 60_000 });
    void ask(lookup, 'idp.acme.test', { all: true });
    void ask(lookup, 'site.acme.test', { all: true });
    void ask(lookup, 'idp.acme.test', { all: true, family: 4 });
    expect(asked.map((a) => [a.hostname, a.options.family])).to.deep.equal([
      ['idp.acme.test', undefined],
      ['site.acme.test', undefined],
      ['idp.acme.test', 4],
    ]);
  });

  it('ends a call at its deadline with UPSTREAM_DNS_TIMEOUT; a later call gets the same lookup when it answers', async () => {
    const { resolveAll, asked } = byHand();
    const lookup = createHostLookup({ resolveAll, deadlineMs: 50 });
    const first = await ask(lookup, 'idp.acme.test', { all: true });
    expect(first.err).to.include({ code: 'UPSTREAM_DNS_TIMEOUT', status: 502 });
    expect(first.err!.message).to.include('idp.acme.test');
    const later = ask(lookup, 'idp.acme.test', { all: true });
    expect(asked).to.have.length(1);
    asked[0]!.answer(null, BOTH);
    expect((await later).address).to.deep.equal(BOTH);
  });

  it("hands the resolver's error to every call waiting on it", async () => {
    const { resolveAll, asked } = byHand();
    const lookup = createHostLookup({ resolveAll, deadlineMs: 60_000 });
    const calls = [ask(lookup, 'gone.acme.test', { all: true }), ask(lookup, 'gone.acme.test', {})];
    asked[0]!.answer(
      Object.assign(new Error('getaddrinfo ENOTFOUND gone.acme.test'), { code: 'ENOTFOUND' }),
      [],
    );
    for (const call of await Promise.all(calls)) expect(call.err).to.include({ code: 'ENOTFOUND' });
  });

  it('looks up names whose last lookup outlasted the deadline one at a time, leaving the other thread to names that answer', async () => {
    const { resolveAll, asked } = byHand();
    const lookup = createHostLookup({ resolveAll, deadlineMs: 20 });
    const eaiAgain = Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
    // Two tenants' IdP names hang: each lookup outlasts its callers' deadline, then fails.
    const firsts = [ask(lookup, 'idp.a.test', { all: true }), ask(lookup, 'idp.b.test', { all: true })];
    for (const call of await Promise.all(firsts))
      expect(call.err).to.include({ code: 'UPSTREAM_DNS_TIMEOUT' });
    for (const first of asked.splice(0)) first.answer(eaiAgain, []);
    // Their customers try again: one of the two is looked up, the other waits its turn; a name
    // that answers is looked up at once.
    void ask(lookup, 'idp.a.test', { all: true });
    void ask(lookup, 'idp.b.test', { all: true });
    void ask(lookup, 'site.c.test', { all: true });
    expect(asked.map((a) => a.hostname)).to.deep.equal(['idp.a.test', 'site.c.test']);
    // A's DNS is back: answered within the deadline, its name leaves the lane, and B's turn comes.
    asked[0]!.answer(null, BOTH);
    expect(asked.map((a) => a.hostname)).to.deep.equal(['idp.a.test', 'site.c.test', 'idp.b.test']);
    void ask(lookup, 'idp.a.test', { all: true });
    expect(asked.at(-1)!.hostname, 'A no longer waits behind B').to.equal('idp.a.test');
  });
});
