// A customer's text as Jira reads it (wiki markup) mentions nobody, whatever backslashes it holds
// (ADR 0245): checked against the emulator's renderer, which reads escapes and line breaks left to
// right as Jira's notation says.
import { expect } from 'chai';
import fc from 'fast-check';
import { mentionsIn, renderWiki } from '../../common/wiki-render.js';
import { withoutMentions } from '../../portal/wiki-mentions.js';

const ID = '5b10407db07e9614f07dd790';
const wiki = {
  base: 'https://acme.atlassian.net',
  issueKey: 'IT-1',
  attachments: [],
  user: (accountId: string) => (accountId === ID ? { displayName: 'Hana Holt' } : undefined),
};

describe('portal: a customer’s wiki markup mentions nobody', () => {
  it('shows a mention as the characters typed, after any run of backslashes', () => {
    for (const typed of [
      `[~accountid:${ID}]`,
      `[Boss|~accountid:${ID}]`,
      `\\\\[~accountid:${ID}]`,
      `\\\\\\\\[~accountid:${ID}]`,
    ]) {
      expect(mentionsIn(typed), typed).to.deep.equal([ID]);
      const written = withoutMentions(typed);
      expect(mentionsIn(written), written).to.deep.equal([]);
      const shown = renderWiki(written, wiki);
      expect(shown, written).to.not.include('Hana Holt');
      expect(shown, written).to.include(`~accountid:${ID}]`);
    }
  });

  it('leaves a bracket the customer escaped, links and file references as they are', () => {
    expect(withoutMentions(`\\[~accountid:${ID}]`)).to.equal(`\\[~accountid:${ID}]`);
    const rest = '*bold* [label|https://example.test] [^file.txt] a \\\\ break';
    expect(withoutMentions(rest)).to.equal(rest);
  });

  it('leaves no mention in any text of brackets, tildes, pipes and backslashes', () => {
    const piece = fc.constantFrom(
      ...'[]~| \\\n'.split(''),
      'accountid:',
      ID,
      `[~accountid:${ID}]`,
      '[a|~accountid:',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        expect(mentionsIn(withoutMentions(pieces.join('')))).to.deep.equal([]);
      }),
      { numRuns: 2000 },
    );
  });
});
