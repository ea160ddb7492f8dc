/**
 * A string the customer did not type as her text, put into the wiki markup the portal writes to Jira:
 * her name in the author line (comment-author.ts), which her IdP or her Atlassian profile gives.
 * Jira renders that markup for agents and in its notification e-mails, so such a string must show
 * as its characters and open nothing: no link, macro (`{html}`, `{color}`), image, file reference,
 * mention, formatting, heading, list, emoticon, bare URL or issue link (ADR 0273).
 *
 * Jira's renderer takes a backslash only before `- # * _ + ? ^ ~ | % { } [ ] ( ) ! @`
 * (BackslashEscapeRendererComponent); before any other character the backslash is shown, so only
 * those are escaped. What they cannot stop is broken with an invisible word joiner (U+2060): after
 * every `:` (a URL's `://`, `mailto:`, the emoticons `:)` `:D`) and inside a leading `h1.`…`h6.` or
 * `bq.` (a heading or quote: the name starts the body). A backslash itself cannot be shown by an
 * escape (`\\` is a line break): its look-alike U+29F5 stands in. The result holds no unpaired
 * backslash, so it neither escapes what follows it nor pairs with one there (ADR 0245).
 */

const ESCAPABLE = /[-#*_+?^~|%{}[\]()!@]/g;
/** A backslash `asWikiText` put before one of ESCAPABLE. */
const ESCAPED = new RegExp(String.raw`\\(${ESCAPABLE.source})`, 'g');
const BACKSLASH_LOOKALIKE = '\u29f5';
const WORD_JOINER = '\u2060';
const LEADING_BLOCK = /^(h[1-6]|bq)\./;

/** `plain` as wiki markup that Jira renders as those characters (with invisible word joiners). */
export function asWikiText(plain: string): string {
  return plain
    .replaceAll('\\', BACKSLASH_LOOKALIKE)
    .replace(ESCAPABLE, '\\$&')
    .replaceAll(':', `:${WORD_JOINER}`)
    .replace(LEADING_BLOCK, `$1${WORD_JOINER}.`);
}

/** The characters `asWikiText` wrote (a backslash's look-alike stays). */
export function fromWikiText(written: string): string {
  return written.replace(ESCAPED, '$1').replaceAll(WORD_JOINER, '');
}
