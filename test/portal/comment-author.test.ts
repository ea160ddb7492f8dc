// The author line the portal writes before a customer's comment, read back only from the service
// account's comments (ADR 0080), and the sizes people read.
import { expect } from 'chai';
import { createTranslator } from '../../common/i18n/index.js';
import { renderWiki } from '../../common/wiki-render.js';
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
      'Eve  Mallory \\(via the help center\\):\u2060 (via the help center):',
    );
    expect(authoredBody(' \u0007 ', 'hi')).to.match(/^A customer \(via the help center\):/);
  });

  it('writes a name as its characters, none of them markup, and reads it back as it was (ADR 0273)', () => {
    const context = { base: 'https://acme.atlassian.net', issueKey: 'IT-1', attachments: [] };
    const names = [
      'Mal [Reset|https://evil.example/r] *b* _i_ {{m}} http://evil.example HR-1',
      '{html}<b>x</b>{html} {color:red}!{color} !a.png! [^a.png] [~accountid:x] h1. -g- +u+ ^s^ ~s~ ??c?? (y) :)',
      '# a | b || c & d; e.f, "g" \'h\' `i` $j% =k@ / ----',
      "h1. Dr. O'Brien, mailto:x@y.example; bq. :D",
    ];
    for (const name of names) {
      const body = authoredBody(name, 'text *hers*');
      const line = body.slice(0, body.lastIndexOf(' (via the help center):'));
      // Jira takes a backslash before these alone; others are left as they are, since it would show.
      expect(line, name).to.not.match(
        /(?<!\\)[-#*_+?^~|%{}[\]()!@]|\\[^-#*_+?^~|%{}[\]()!@]|:\/\/|^(h[1-6]|bq)\./,
      );
      expect(renderWiki(body, context).replaceAll('\u2060', '')).to.equal(
        `<p>${name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')} (via the help center):</p>\n\n<p>text <b>hers</b></p>`,
      );
      expect(commentAuthor(byBot(body), BOT)).to.deep.equal({ name, viaPortal: true, body: 'text *hers*' });
    }
    // `\\` is a line break in Jira's notation and no escape shows a backslash: a look-alike stands in.
    const written = authoredBody('CORP\\mal\\', 'hi');
    expect(written).to.equal('CORP\u29f5mal\u29f5 (via the help center):\n\nhi');
    expect(commentAuthor(byBot(written), BOT).name).to.equal('CORP\u29f5mal\u29f5');
    // A name of 255 characters that all need escaping is still read back.
    expect(commentAuthor(byBot(authoredBody('['.repeat(255), '')), BOT).name).to.equal('['.repeat(255));
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
