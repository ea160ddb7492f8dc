// HTML that comes from Atlassian (knowledge base articles) is cleaned here, with sanitize-html, before
// it is put on a page: formatting, lists, tables, headings and links only. No script, style, form,
// frame, image or event attribute survives; links keep http(s)/mailto and never open a new context.
import sanitizeHtml from 'sanitize-html';
import { SafeHtml } from './html.js';

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
  // The page's own h1 is the title: article headings start one level below it.
  transformTags: {
    h1: 'h2',
    a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow' }),
  },
  disallowedTagsMode: 'discard',
};

/** Atlassian's rendered HTML made safe to embed in a portal page. */
export function sanitizeAtlassianHtml(dirty: string): SafeHtml {
  return new SafeHtml(sanitizeHtml(dirty, OPTIONS));
}
