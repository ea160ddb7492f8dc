/**
 * A customer's text is written to Jira as wiki markup (a comment's body, a step's or an upload's
 * comment, a request's description and other multi-line fields). There `[~accountid:id]` (also
 * `[name|~accountid:id]`, and `[~name]` on older sites) is a mention: Jira renders the account's
 * display name and notifies that account, as the portal's service account, of any id a customer
 * types. A customer's text mentions nobody here, as the native portal's does not: such a `[` is
 * escaped, so Jira shows the characters typed (ADR 0245).
 *
 * In Jira's notation `\X` is the character X and `\\` a line break, read left to right: a `[` after
 * an odd run of backslashes is already the character, one after an even run (none, or a line break)
 * opens markup. Only that one gets a backslash, so one the customer typed cannot pair with it.
 */

/** A `[` that opens markup whose target (first, or after a `|`) starts with `~`: a mention. */
const LIVE_MENTION = /(?<!\\)((?:\\\\)*)\[(?=[ \t]*~|[^\]\n]*\|[ \t]*~)/g;

/** `text` with every mention it holds escaped into the characters typed. */
export function withoutMentions(text: string): string {
  return text.replace(LIVE_MENTION, '$1\\[');
}
