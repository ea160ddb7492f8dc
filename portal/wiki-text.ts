/**
 * A string the customer did not type as her text, put into the wiki markup the portal writes to Jira:
 * her name in the author line (comment-author.ts), which her IdP or her Atlassian profile gives.
 * Jira renders that markup for agents and in its notification e-mails, so such a string must show
 * as its characters and open nothing: no link, macro (`{html}`, `{color}`), image, file reference,
 * mention, formatting, heading or list, bare URL or issue link (ADR 0273).
 *
 * Every ASCII punctuation character gets a backslash (`\X` is the character X in Jira's notation);
 * letters, digits, spaces and other scripts open no markup. A backslash itself cannot be shown so
 * (`\\` is a line break): it is written as its look-alike U+29F5. The result holds no unpaired
 * backslash, so it neither escapes what follows it nor pairs with a backslash there (ADR 0245).
 */

const PUNCTUATION = /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/g;
const BACKSLASH_LOOKALIKE = '\u29f5';

/** `plain` as wiki markup that Jira renders as those characters. */
export function asWikiText(plain: string): string {
  return plain.replaceAll('\\', BACKSLASH_LOOKALIKE).replace(PUNCTUATION, '\\$&');
}

/** The characters `asWikiText` wrote (a backslash's look-alike stays). */
export function fromWikiText(written: string): string {
  return written.replace(/\\(.)/gu, '$1');
}
