// The text of Atlassian's HTML, once cleaned, reads as it was written: a customer's own comment goes through
// two passes (portal/sanitize.ts `textOnly`, then the cleaning), and must read as an agent's comment does.
import { expect } from 'chai';
import { sanitizeCommentHtml } from '../../portal/sanitize.js';

const links = { siteOrigin: 'https://acme.atlassian.net', file: () => undefined };

describe('portal: text of cleaned Atlassian HTML', () => {
  // Elements whose content htmlparser2 reads as raw text (no entities decoded), as browsers do.
  for (const dirty of [
    '<noembed>a < b &amp; c</noembed>',
    '<noframes>a < b &amp; c</noframes>',
    '<plaintext>a < b &amp; c',
  ]) {
    it(`escapes the text of ${dirty} once in a customer’s comment, as in an agent’s`, () => {
      const agent = sanitizeCommentHtml(dirty, links).value;
      expect(agent).to.equal('a &lt; b &amp;amp; c');
      expect(sanitizeCommentHtml(dirty, { ...links, typedByCustomer: true }).value).to.equal(agent);
    });
  }
});
