// The author line the portal writes before a customer's comment, read back only from the service
// account's comments (ADR 0080), and the sizes people read.
import { expect } from 'chai';
import { createTranslator } from '../../common/i18n/index.js';
import { authoredBody, commentAuthor, withoutAuthorParagraph } from '../../portal/comment-author.js';

const BOT = 'bot-account';
const byBot = (body: string) => ({ body, author: { accountId: BOT, displayName: 'Portal Bot' } });

describe('portal comment authors', () => {
  it('writes the name on a line of its own, and reads it back from the service account’s comments', () => {
    const body = authoredBody('Alice Anders', 'Line one\nLine two');
    expect(body).to.equal('Alice Anders (via the help center):\n\nLine one\nLine two');
    expect(commentAuthor(byBot(body), BOT)).to.deep.equal({
      name: 'Alice Anders',
      viaPortal: true,
      body: 'Line one\nLine two',
    });
  });

  it('keeps a name from breaking the line: control characters become spaces, an empty name is named', () => {
    expect(authoredBody('Eve\n\nMallory (via the help center):', 'hi').split('\n')[0]).to.equal(
      'Eve  Mallory (via the help center): (via the help center):',
    );
    expect(authoredBody(' \u0007 ', 'hi')).to.match(/^A customer \(via the help center\):/);
  });

  it('believes the line only from the service account, and only at the very start', () => {
    const line = 'Bob Brown (via the help center):\n\nhello';
    expect(commentAuthor({ body: line, author: { accountId: 'agent', displayName: 'Ian' } }, BOT)).to.include(
      {
        name: 'Ian',
        viaPortal: false,
      },
    );
    expect(commentAuthor(byBot(`Hi\n${line}`), BOT)).to.include({ name: 'Portal Bot', viaPortal: false });
    expect(commentAuthor(byBot('Alice Anders: legacy prefix'), BOT)).to.include({ viaPortal: false });
  });

  it('drops the rendered author paragraph only when it is the author line', () => {
    expect(withoutAuthorParagraph('<p>Alice Anders (via the help center):</p>\n\n<p>Text</p>')).to.equal(
      '<p>Text</p>',
    );
    expect(withoutAuthorParagraph('<p>Alice &amp; Co (via the help center):</p><p>x</p>')).to.equal(
      '<p>x</p>',
    );
    for (const other of ['<p>Just text</p><p>more</p>', '<ul><li>(via the help center):</li></ul><p>x</p>'])
      expect(withoutAuthorParagraph(other)).to.equal(other);
  });
});

describe('portal file sizes', () => {
  const formatBytes = (bytes: number | undefined, locale: 'en' | 'de' = 'en') =>
    createTranslator({ locale, timeZone: 'UTC' }).fileSize(bytes);
  it('reads like Atlassian’s: bytes, then kB, MB, GB with at most one decimal', () => {
    expect([0, 1, 999, 1500, 12_345, 10 * 1024 * 1024, 3e9].map((n) => formatBytes(n))).to.deep.equal([
      '0 bytes',
      '1 byte',
      '999 bytes',
      '1.5 kB',
      '12 kB',
      '10 MB',
      '3 GB',
    ]);
    expect(formatBytes(1500, 'de')).to.equal('1,5 kB');
    expect([undefined, -1, Number.NaN].map((n) => formatBytes(n))).to.deep.equal(['', '', '']);
  });
});
