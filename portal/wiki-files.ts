/**
 * A customer's text is written to Jira as wiki markup, where `[^name]` (also `[text^name]`,
 * `[text|^name]`) links an attachment and `!name!` (also `!name|thumbnail!`, `!name|align=…!`)
 * embeds one. Jira resolves the name against every file of the issue, an internal comment's too,
 * and its rendering is what agents read and what Atlassian's notification e-mails carry: a
 * customer's text naming an internal file would show or link that file there (ADR 0260). Such a
 * reference is escaped, so Jira shows the characters typed; one naming a file the customer may
 * open, and no other file, is left to resolve.
 *
 * Escapes follow wiki-mentions.ts: only a `[` or `!` after an even run of backslashes opens markup,
 * and only that one gets a backslash. Both `!` of an image are escaped: the closing one could open
 * the next image once the first is text (`!a!b!`).
 */

const EVEN_BACKSLASHES = String.raw`(?<!\\)((?:\\\\)*)`;
/** An attachment link: a bracket whose content names its target after a `^`. */
const FILE_LINK = new RegExp(`${EVEN_BACKSLASHES}\\[([^\\]\\n]*\\^[^\\]\\n]*)\\]`, 'g');
/** An embedded image: `!name!` or `!name|options!`, the name not starting with a space. */
const IMAGE = new RegExp(`${EVEN_BACKSLASHES}!([^!\\s|][^!\\n|]*)((?:\\|[^!\\n]*)?)!`, 'g');

/** The file a link's content names: after its `^`, the alias before it left out; as written (`a.png ` is not `a.png`). */
const linkTarget = (content: string) => content.slice(content.indexOf('^') + 1);

/**
 * `text` with every attachment reference escaped into the characters typed, but for one whose
 * name `shown` says the customer may open (and nothing else on the request is called).
 */
export function withoutHiddenFiles(text: string, shown: (name: string) => boolean): string {
  const once = (before: string) =>
    before
      .replace(IMAGE, (whole, run: string, name: string, options: string) =>
        shown(name) ? whole : `${run}\\!${name}${options}\\!`,
      )
      .replace(FILE_LINK, (whole, run: string, content: string) =>
        shown(linkTarget(content)) ? whole : `${run}\\[${content}]`,
      );
  // A reference escaped lays bare one it held (`[x[^a]`, `!a[^b]!`): again until none is left. Each
  // pass only escapes what was live, so this ends.
  let written = text;
  for (let next = once(written); next !== written; next = once(written)) written = next;
  return written;
}

/** True when `text` holds an attachment reference Jira would resolve (worth asking which files are shown). */
export function namesFiles(text: string): boolean {
  return withoutHiddenFiles(text, () => false) !== text;
}
