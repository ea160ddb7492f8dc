// Jira wiki markup -> the HTML Atlassian's renderer answers in a comment's `renderedBody` (the
// `renderedBody` / `comment.renderedBody` expansions), for the markup comments use: paragraphs and
// line breaks, *bold*, _italic_, {{monospace}}, links and bare URLs, attachment links `[^file]`
// (Atlassian adds one per file to the comment of an upload) and embedded images `!file!`,
// `!file|thumbnail!`. Attachments are linked where Jira links them: `/secure/attachment/{id}/{name}`
// and `/secure/thumbnail/{id}/{name}` on the site. Also what Jira resolves beyond the request:
// a mention `[~accountid:id]` (or `[text|~accountid:id]`) is the account's display name linked to
// its profile, and notifies that account (`mentionsIn`); an issue key is a link to the issue when
// one exists (struck through when it is done). A backslash escapes the character after it (`\[`
// is a `[`), and two are a line break, read left to right, as Jira's notation says.
// The JSM emulator answers with it where Atlassian renders; the portal renders with it what Atlassian
// gives only as markup (a request type's description and help text, ADR 0375), and cleans the result.

/** A file of the request, as `[^name]` and `!name!` find it. */
export interface WikiFile {
  id: string;
  filename: string;
  mimeType: string;
}

export interface WikiContext {
  /** The site's base URL. */
  base: string;
  issueKey: string;
  /** The request's attachments: `[^name]` names the latest one with that file name. */
  attachments: readonly WikiFile[];
  /** The account with this id, for a mention (none: not resolved). */
  user?: (accountId: string) => { displayName: string } | undefined;
  /** The issue with this key, for an issue key in the text (none: not linked). */
  issue?: (key: string) => { summary: string; done: boolean } | undefined;
}

const escaped = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? '&#39;');

const INLINE =
  /\\\\|\\([-#*_+?^~|%{}[\]()!@])|\[(?:([^\]|\n]*)\|)?~accountid:([^\]\s|]+)\]|(?<![\w-])([A-Z][A-Z0-9_]+-[1-9][0-9]*)(?![\w-])|\[\^([^\]\n]+)\]|!([^!\s|][^!\n|]*)(?:\|([^!\n]*))?!|\[([^\]|\n]+)\|(https?:\/\/[^\]\s]+)\]|\[(https?:\/\/[^\]\s]+)\]|(https?:\/\/[^\s<>"\]]+)|\*([^*\n]+)\*|(?<![\w])_([^_\n]+)_(?![\w])|\{\{([^}\n]+)\}\}/g;

/** The accounts a body mentions (`[~accountid:id]`, escapes honoured): Jira notifies each. */
export function mentionsIn(body: string): string[] {
  return [...body.matchAll(INLINE)].flatMap((m) => (m[3] === undefined ? [] : [m[3]]));
}

function inline(text: string, ctx: WikiContext): string {
  const file = (name: string) => ctx.attachments.findLast((a) => a.filename === name);
  const fileUrl = (a: { id: string; filename: string }, kind: 'attachment' | 'thumbnail') =>
    `${ctx.base}/secure/${kind}/${a.id}/${encodeURIComponent(a.filename)}`;
  const external = (href: string, label: string) =>
    `<a href="${escaped(href)}" class="external-link" target="_blank" rel="nofollow noopener">${escaped(label)}</a>`;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out += escaped(text.slice(last, m.index));
    last = m.index + m[0].length;
    const [
      whole,
      escapedChar,
      alias,
      accountId,
      issueKey,
      attachment,
      image,
      imageOptions,
      label,
      labelled,
      bracketed,
      bare,
      bold,
      italic,
      mono,
    ] = m;
    if (whole === '\\\\') out += '<br/>';
    else if (escapedChar !== undefined) out += escaped(escapedChar);
    else if (accountId !== undefined) {
      const user = ctx.user?.(accountId);
      out += user
        ? `<a href="${escaped(`${ctx.base}/secure/ViewProfile.jspa?accountId=${encodeURIComponent(accountId)}`)}" class="user-hover" rel="${escaped(accountId)}" data-account-id="${escaped(accountId)}">${escaped(alias || user.displayName)}</a>`
        : `<span class="error">&#91;~accountid:${escaped(accountId)}&#93;</span>`;
    } else if (issueKey !== undefined) {
      const issue = ctx.issue?.(issueKey);
      const shown = issue?.done ? `<del>${issueKey}</del>` : issueKey;
      out += issue
        ? `<a href="${ctx.base}/browse/${issueKey}" title="${escaped(issue.summary)}" class="issue-link" data-issue-key="${issueKey}">${shown}</a>`
        : issueKey;
    } else if (attachment !== undefined) {
      const a = file(attachment);
      out += a
        ? `<span class="nobr"><a href="${escaped(fileUrl(a, 'attachment'))}" title="${escaped(`${a.filename} attached to ${ctx.issueKey}`)}">${escaped(a.filename)}<sup><img class="rendericon" src="${ctx.base}/images/icons/link_attachment_7.gif" height="7" width="7" align="absmiddle" alt="" border="0"/></sup></a></span>`
        : `<span class="error">&#91;^${escaped(attachment)}&#93;</span>`;
    } else if (image !== undefined) {
      const a = file(image);
      if (!a)
        out += `<span class="error">Unable to render embedded object: File (${escaped(image)}) not found.</span>`;
      else if (imageOptions?.split(',').includes('thumbnail'))
        out += `<span class="image-wrap" style=""><a id="${a.id}_thumb" href="${escaped(fileUrl(a, 'attachment'))}" title="${escaped(a.filename)}" file-preview-type="image" file-preview-id="${a.id}" file-preview-title="${escaped(a.filename)}"><img src="${escaped(fileUrl(a, 'thumbnail'))}" style="border: 0px solid black" /></a></span>`;
      else
        out += `<span class="image-wrap" style=""><img src="${escaped(fileUrl(a, 'attachment'))}" style="border: 0px solid black" /></span>`;
    } else if (label !== undefined && labelled !== undefined) out += external(labelled, label);
    else if (bracketed !== undefined) out += external(bracketed, bracketed);
    else if (bare !== undefined) out += external(bare, bare);
    else if (bold !== undefined) out += `<b>${escaped(bold)}</b>`;
    else if (italic !== undefined) out += `<em>${escaped(italic)}</em>`;
    else if (mono !== undefined) out += `<tt>${escaped(mono)}</tt>`;
  }
  return (out + escaped(text.slice(last))).replace(/\n/g, '<br/>\n');
}

/** The HTML Jira renders for a text written in wiki markup (a comment's body, a field's value). */
export function renderWiki(body: string, ctx: WikiContext): string {
  return body
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => `<p>${inline(p, ctx)}</p>`)
    .join('\n\n');
}
