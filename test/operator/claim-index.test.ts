import { expect } from 'chai';
import { ClaimIndex } from '../../operator/claim-index.js';

/** The index the controller requeues tenants from (ADR 0235): which keys a change concerns. */
describe('the claim index', () => {
  const sameText = (a: string, b: string) => a === b;

  it('says which keys a member joined or left, and stands it under each with its latest value', () => {
    const index = new ClaimIndex<string>();
    expect(index.set('p', ['a', 'b'], 'one', sameText)).to.deep.equal(['a', 'b']);
    expect(index.set('q', ['b'], 'two', sameText)).to.deep.equal(['b']);
    expect(index.under('b')).to.deep.equal(['one', 'two']);
    expect(index.set('p', ['b', 'c'], 'one', sameText)).to.deep.equal(['a', 'c']);
    expect(index.under('a')).to.deep.equal([]);
    expect(index.set('p', [], 'one', sameText)).to.deep.equal(['b', 'c']);
    expect(index.under('b')).to.deep.equal(['two']);
  });

  it('says nothing changed for the same keys and an equal value, and every key for a value that is not', () => {
    const index = new ClaimIndex<string>();
    index.set('p', ['a', 'b'], 'one', sameText);
    expect(index.set('p', ['a', 'b'], 'one', sameText)).to.deep.equal([]);
    // A projection moved to another port of its host name: the same keys, other claims under them.
    expect(index.set('p', ['a', 'b'], 'one:8443', sameText)).to.deep.equal(['a', 'b']);
    expect(index.under('a')).to.deep.equal(['one:8443']);
  });
});
