// A customer's text as Jira reads it (wiki markup) names no file of the request but one she may
// open, whatever backslashes and brackets it holds (ADR 0260): checked against the emulator's
// renderer, which resolves `[^name]` and `!name!` against every file of the request and reads
// escapes and line breaks left to right as Jira's notation says.
import { expect } from 'chai';
import fc from 'fast-check';
import { renderWiki } from '../../common/wiki-render.js';
import { namesFiles, withoutHiddenFiles } from '../../portal/wiki-files.js';

const wiki = {
  base: 'https://acme.atlassian.net',
  issueKey: 'IT-1',
  attachments: [
    { id: '1', filename: 'shown.png', mimeType: 'image/png' },
    { id: '2', filename: 'secret.png', mimeType: 'image/png' },
  ],
};
const shown = (name: string) => name === 'shown.png';
/** What Jira made of the written text: a reference to the hidden file, or its "not found". */
const resolvedHidden = (html: string) => /\/secure\/\w+\/2\/|class="error"/.test(html);

describe('portal: a customer’s wiki markup names no file she may not open', () => {
  it('shows a reference to any other file as the characters typed, after any run of backslashes', () => {
    for (const reference of [
      '[^secret.png]',
      '!secret.png!',
      '!secret.png|thumbnail!',
      '!secret.png|align=right, vspace=4!',
      '!missing.png!',
      '[^missing.txt]',
    ])
      for (const typed of [reference, `\\\\${reference}`, `\\\\\\\\${reference}`]) {
        expect(resolvedHidden(renderWiki(typed, wiki)), typed).to.equal(true);
        expect(namesFiles(typed), typed).to.equal(true);
        const written = withoutHiddenFiles(typed, shown);
        const html = renderWiki(written, wiki);
        expect(resolvedHidden(html), written).to.equal(false);
        expect(html, written).to.include(reference.replace('&', '&amp;'));
      }
  });

  it('leaves a file she may open, an escaped reference and other markup as they are', () => {
    for (const kept of [
      '[^shown.png]',
      '!shown.png|thumbnail!',
      '\\[^secret.png]',
      '\\!secret.png!',
      '*bold* [label|https://example.test] Hi! How are you!',
    ]) {
      expect(withoutHiddenFiles(kept, shown)).to.equal(kept);
    }
    expect(renderWiki('[^shown.png] !shown.png!', wiki)).to.include('/secure/attachment/1/shown.png');
    expect(namesFiles('*bold* \\[^secret.png]')).to.equal(false);
  });

  it('escapes a reference an escaped one held, and one an image’s closing mark would open', () => {
    expect(withoutHiddenFiles('!a!secret.png!', shown)).to.equal('\\!a\\!secret.png!');
    expect(withoutHiddenFiles('[x[^secret.png]', shown)).to.equal('\\[x\\[^secret.png]');
  });

  it('leaves no reference to a file she may not open in any text of marks, names and backslashes', () => {
    const piece = fc.constantFrom(
      ...'[]!^| \\\n'.split(''),
      'secret.png',
      'shown.png',
      '[^secret.png]',
      '!secret.png|thumbnail!',
      '[^shown.png]',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const html = renderWiki(withoutHiddenFiles(pieces.join(''), shown), wiki);
        expect(resolvedHidden(html), html).to.equal(false);
      }),
      { numRuns: 3000 },
    );
  });
});
