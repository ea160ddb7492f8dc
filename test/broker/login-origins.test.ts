// The login origins a choice page names in its CSP (broker/login-origins.ts, ADR 0237): a page waits for
// an IdP's read at most its bound; while a read that a page stopped waiting for is still under way, the
// pages after it do not wait on that IdP at all. Told by the reads started, not by how long a page took:
// a wait of 0 makes the first page give up on a held read at its first timer, whatever the machine's load.
import { expect } from 'chai';
import { loginOrigins } from '../../broker/login-origins.js';

const ALPHA = 'https://alpha.test';
const BETA = 'https://beta.test';

/** Until every promise settled so far has run its callbacks (they all run before the next macrotask). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('broker: the login origins a choice page waits for', () => {
  it('starts no read of an IdP, and so waits on none, while a read a page gave up on is under way', async () => {
    let reads = 0;
    let answer!: (origin: string) => void;
    const held = new Promise<string>((resolve) => {
      answer = resolve;
    });
    const beta = {
      idp: 'beta',
      loginOrigin: async () => (++reads === 1 ? held : BETA),
    };
    const origins = loginOrigins([{ idp: 'alpha', loginOrigin: async () => ALPHA }, beta], 0);
    expect(await origins(), 'the first page, its read of beta held').to.deep.equal([ALPHA]);
    expect(await origins(), 'the next page, that read still under way').to.deep.equal([ALPHA]);
    expect(reads, 'reads of beta while the first is under way').to.equal(1);
    // The held read answers: the next page reads beta again, and names it.
    answer(BETA);
    await settled();
    expect(await origins(), 'a page after the held read ended').to.deep.equal([ALPHA, BETA]);
    expect(reads).to.equal(2);
  });
});
