import { expect } from 'chai';
import { userOfAnswer } from '../../broker/backends/oauth2-user.js';

/** The person a plain OAuth 2.0 user endpoint's answer names (ADR 0243). */
describe('broker: userOfAnswer', () => {
  it('keeps the digits of an integer beyond 2^53, in the subject and in the claim a mapping reads', () => {
    const user = userOfAnswer('{"id":9007199254740993,"name":"Al"}');
    expect(user).to.deep.equal({
      subject: '9007199254740993',
      claims: { id: '9007199254740993', name: 'Al' },
    });
    expect(userOfAnswer('{"sub":-18446744073709551617}')?.subject).to.equal('-18446744073709551617');
  });

  it('reads a string, a safe integer or a fraction as before, and sub before id', () => {
    expect(userOfAnswer('{"sub":"a1","id":2}')?.subject).to.equal('a1');
    expect(userOfAnswer('{"id":42}')).to.deep.equal({ subject: '42', claims: { id: 42 } });
    expect(userOfAnswer('{"sub":null,"id":1.5}')?.subject).to.equal('1.5');
  });

  it('takes only the answer’s own id for the subject, and keeps every claim’s numbers beyond 2^53 as written (ADR 0253)', () => {
    const user = userOfAnswer(
      '{"org":{"id":9007199254740993},"groups":[-9007199254740993,2.5e300,7],"id":7}',
    )!;
    expect(user).to.deep.equal({
      subject: '7',
      claims: { org: { id: '9007199254740993' }, groups: ['-9007199254740993', '2.5e300', 7], id: 7 },
    });
  });

  it('names no one for a number beyond 2^53 not written as an integer, Infinity, no id, or no object', () => {
    for (const text of [
      '{"id":9.007199254740993e15}',
      '{"id":1e400}',
      '{"id":true}',
      '{"sub":""}',
      '{"id":""}',
      '{"email":"a@b.test"}',
      '[{"id":1}]',
      '"x"',
      'not json',
    ])
      expect(userOfAnswer(text), text).to.equal(undefined);
  });
});
