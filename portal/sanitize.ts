// HTML that comes from Atlassian (knowledge base articles, rendered comment bodies) is cleaned here,
// with sanitize-html, before it is put on a page: formatting, lists, tables, headings and links only.
// No script, style, form, frame, event attribute or data: URL survives; links keep http(s)/mailto and
// never open a new context. An article's relative links open where they would at the site. In comments,
// links and images that point at the Atlassian site are rewritten to the portal's own routes for the
// request's files, or dropped: a customer never gets a link to the site (which they cannot open) or to a
// file they may not see.
import sanitizeHtml from 'sanitize-html';
import { SafeHtml } from '../common/http/html.js';

/** Every link kept opens with no opener, no referrer and no endorsement. */
const LINK_REL = 'noopener noreferrer nofollow';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'hr',
    'div',
    'span',
    'strong',
    'b',
    'em',
    'i',
    'u',
    's',
    'sub',
    'sup',
    'code',
    'pre',
    'blockquote',
    'ul',
    'ol',
    'li',
    'dl',
    'dt',
    'dd',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'a',
    'table',
    'thead',
    'tbody',
    'tfoot',
    'tr',
    'th',
    'td',
    'caption',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    th: ['scope', 'colspan', 'rowspan'],
    td: ['colspan', 'rowspan'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
};

/**
 * A link's target as a browser showing the page at `baseUrl` would open it, or undefined when no
 * browser could (the link is then dropped, its text kept). A fragment alone stays: it names a place in
 * the same document there and here. The schemes are checked after this, on the absolute URL.
 */
function resolvedHref(href: string, baseUrl: string): string | undefined {
  if (href.startsWith('#')) return href;
  try {
    return new URL(href, baseUrl).href;
  } catch {
    return undefined;
  }
}

/**
 * An article's HTML made safe to embed in a portal page. `articleUrl` is where it was read at the
 * Atlassian site: its relative links are resolved against it, as a browser there would, so none of them
 * opens a path of the portal instead of the site's page it meant.
 */
export function sanitizeAtlassianHtml(dirty: string, articleUrl: string): SafeHtml {
  return new SafeHtml(
    sanitizeHtml(dirty, {
      ...OPTIONS,
      transformTags: {
        // The page's own h1 is the title: article headings start one level below it.
        h1: 'h2',
        a: (_tag, { href, ...attribs }): sanitizeHtml.Tag => {
          const target = href === undefined ? undefined : resolvedHref(href, articleUrl);
          return {
            tagName: 'a',
            attribs: { ...attribs, ...(target === undefined ? {} : { href: target }), rel: LINK_REL },
          };
        },
      },
    }),
  );
}

/** A file of the request, as the portal serves it to this customer. */
export interface PortalFile {
  name: string;
  /** The portal's download route. */
  href: string;
  /** The portal's thumbnail route (images only). */
  thumbnail?: string | undefined;
}

export interface CommentLinks {
  /** The Atlassian site's origin: links and images there are the site's own. */
  siteOrigin: string;
  /** The file with this attachment id, when the customer may open it. */
  file(attachmentId: string): PortalFile | undefined;
  /**
   * The body is a customer's own text (the portal wrote it for them, or their account did): what
   * Jira made of a file it names leaves nothing unless the customer may open that file
   * (see `sanitizeCommentHtml`).
   */
  typedByCustomer?: boolean;
}

/** What `textOnly` turns an element into: a tag no options allow, so its text is kept alone. */
const TEXT_ONLY = 'jsmsso-text';

/** Elements the cleaning discards whose content htmlparser2 reads as raw text, kept as their text. */
const RAW_TEXT_TAGS = ['noembed', 'noframes', 'plaintext'];

/**
 * Links to the site in a customer's own text that are no file of the request and no account (an
 * issue key Jira found, in a project she may not see) marked to leave their text alone, with no
 * wrapper: so they read as the key of no issue does (no link). A pass of its own, everything
 * else kept for the cleaning after it: sanitize-html closes a tag transformed into one it
 * discards at the wrong place.
 */
function textOnly(dirty: string, links: CommentLinks): string {
  return sanitizeHtml(dirty, {
    allowedTags: false,
    allowedAttributes: false,
    allowVulnerableTags: true,
    transformTags: {
      // Raw text (htmlparser2 decodes no entity in it): this pass escapes it, so the cleaning after it
      // must read it as ordinary text, or it escapes it again (`&amp;lt;`).
      ...Object.fromEntries(RAW_TEXT_TAGS.map((tag) => [tag, TEXT_ONLY])),
      a: (tagName, attribs): sanitizeHtml.Tag => {
        const site = onSite(attribs['href'], links.siteOrigin);
        const plain = site && attachmentAt(site) === undefined && !isAccountLink(site, attribs);
        return { tagName: plain ? TEXT_ONLY : tagName, attribs: plain ? {} : attribs };
      },
    },
  });
}

/** Where Jira links an account it names (a mention): its profile on the site. */
const SITE_PROFILE_PATHS = [/^\/secure\/ViewProfile\.jspa$/, /^\/jira\/people\//, /^\/people\//];

/** A link Jira's renderer made for an account (a mention): to its profile, or marked as one. */
function isAccountLink(url: URL, attribs: sanitizeHtml.Attributes): boolean {
  return (
    SITE_PROFILE_PATHS.some((p) => p.test(url.pathname)) ||
    /(?:^|\s)user-hover(?:\s|$)/.test(attribs['class'] ?? '') ||
    attribs['data-account-id'] !== undefined
  );
}

/** Marks an element `commentOptions` removes whole, content included (never in the output). */
const DROPPED = 'data-jsmsso-dropped';

/** Where Jira's renderer and REST API put an attachment's bytes and thumbnail, on the site. */
const SITE_ATTACHMENT_PATHS = [
  /^\/secure\/(?:attachment|thumbnail)\/([0-9]{1,18})(?:\/|$)/,
  /^\/rest\/api\/[23]\/attachment\/(?:content|thumbnail)\/([0-9]{1,18})$/,
  /^\/rest\/servicedeskapi\/request\/[^/]+\/attachment\/([0-9]{1,18})(?:\/thumbnail)?$/,
];

/** The URL when it is on the Atlassian site (relative URLs are), else undefined. */
function onSite(url: string | undefined, siteOrigin: string): URL | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url, siteOrigin);
    return parsed.origin === siteOrigin ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The attachment id a site URL points at, if it points at one. */
function attachmentAt(url: URL): string | undefined {
  for (const pattern of SITE_ATTACHMENT_PATHS) {
    const id = pattern.exec(url.pathname)?.[1];
    if (id) return id;
  }
  return undefined;
}

function fileAt(url: URL, links: CommentLinks): PortalFile | undefined {
  const id = attachmentAt(url);
  return id === undefined ? undefined : links.file(id);
}

/**
 * What Jira made of a file reference in a customer's text that must leave nothing behind: its "not
 * found" (a `span.error`), and a wrapper (`span.nobr`, `span.image-wrap`) left with neither text nor
 * image once the reference in it was removed.
 */
function emptyOrJiraError(frame: sanitizeHtml.IFrame): boolean {
  if (frame.tag !== 'span') return false;
  if (/(?:^|\s)error(?:\s|$)/.test(frame.attribs['class'] ?? '')) return true;
  return frame.text.trim() === '' && frame.mediaChildren.length === 0;
}

function commentOptions(links: CommentLinks): sanitizeHtml.IOptions {
  const heading = sanitizeHtml.simpleTransform('p', {});
  return {
    ...OPTIONS,
    allowedTags: [...(OPTIONS.allowedTags || []).filter((t) => !/^h[1-6]$/.test(t)), 'img'],
    allowedAttributes: { ...OPTIONS.allowedAttributes, img: ['src', 'alt'] },
    transformTags: {
      // A comment sits inside the activity stream: its headings are paragraphs there.
      h1: heading,
      h2: heading,
      h3: heading,
      h4: heading,
      h5: heading,
      h6: heading,
      tt: 'code',
      a: (_tag, attribs): sanitizeHtml.Tag => {
        const site = onSite(attribs['href'], links.siteOrigin);
        if (!site)
          return {
            tagName: 'a',
            attribs: {
              ...(attribs['href'] === undefined ? {} : { href: attribs['href'] }),
              ...(attribs['title'] === undefined ? {} : { title: attribs['title'] }),
              rel: LINK_REL,
            },
          };
        const file = fileAt(site, links);
        if (file) return { tagName: 'a', attribs: { href: file.href } };
        if (links.typedByCustomer !== true) return { tagName: 'span', attribs: {} };
        // In her own text: a file of the request she may not open, or an account Jira named by the
        // id she typed (a mention), leaves no trace, not even the name, so that it reads as the
        // reference to nothing does. (Anything else of the site is its text alone: textOnly.)
        const hidden = attachmentAt(site) !== undefined || isAccountLink(site, attribs);
        return { tagName: 'span', attribs: hidden ? { [DROPPED]: '' } : {} };
      },
      img: (_tag, attribs): sanitizeHtml.Tag => {
        const site = onSite(attribs['src'], links.siteOrigin);
        const file = site ? fileAt(site, links) : undefined;
        // Without a source the image is dropped (exclusiveFilter below).
        return file?.thumbnail
          ? { tagName: 'img', attribs: { src: file.thumbnail, alt: file.name } }
          : { tagName: 'img', attribs: {} };
      },
    },
    exclusiveFilter: (frame) =>
      (frame.tag === 'img' && !frame.attribs['src']) ||
      frame.attribs[DROPPED] !== undefined ||
      (links.typedByCustomer === true && emptyOrJiraError(frame)),
  };
}

/**
 * A comment's rendered HTML (`renderedBody.html`) made safe to embed, with its links to the
 * request's files pointing at the portal (only for files `links.file` offers).
 *
 * A customer's text reaches Jira as wiki markup, and Jira resolves `[^name]` and `!name!` against
 * every file of the request, an internal comment's too: a link or an image when it finds the file,
 * its "not found" when it does not. With `typedByCustomer` both leave nothing but for a file the
 * customer may open, so her own comment cannot ask whether an agent attached a file of that name.
 */
export function sanitizeCommentHtml(dirty: string, links: CommentLinks): SafeHtml {
  const marked = links.typedByCustomer === true ? textOnly(dirty, links) : dirty;
  return new SafeHtml(sanitizeHtml(marked, commentOptions(links)));
}
