/**
 * What a customer may upload: the allow-list of extensions, the type each is sent to Atlassian as,
 * and what its bytes must look like (ADR 0152). The name alone decides nothing: a `.png` that holds
 * HTML, a `.pdf` that is a Windows program or a `.txt` that a browser would sniff as a page is
 * refused, because Atlassian's viewers and an agent's browser trust the name and type the portal
 * gave it.
 */
import { open } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';

interface UploadType {
  /** The type sent to Atlassian. */
  mimeType: string;
  /**
   * The file-type names (`ext`) the bytes may be detected as. Empty: a text type, whose bytes must
   * have no binary signature at all (file-type detects formats by signature, text has none).
   */
  detectedAs: readonly string[];
  /** Checked for markup a browser that sniffs would run (see `markupProblem`). */
  markup: 'start' | 'header' | 'none';
}

// An Office document is a zip: a minimal or unusual one may be detected as a plain zip only.
const OFFICE = ['docx', 'xlsx', 'pptx'];

export const UPLOAD_TYPES: Readonly<Record<string, UploadType>> = {
  png: { mimeType: 'image/png', detectedAs: ['png'], markup: 'header' },
  jpg: { mimeType: 'image/jpeg', detectedAs: ['jpg'], markup: 'header' },
  jpeg: { mimeType: 'image/jpeg', detectedAs: ['jpg'], markup: 'header' },
  gif: { mimeType: 'image/gif', detectedAs: ['gif'], markup: 'header' },
  pdf: { mimeType: 'application/pdf', detectedAs: ['pdf'], markup: 'none' },
  txt: { mimeType: 'text/plain', detectedAs: [], markup: 'start' },
  log: { mimeType: 'text/plain', detectedAs: [], markup: 'start' },
  csv: { mimeType: 'text/csv', detectedAs: [], markup: 'start' },
  json: { mimeType: 'application/json', detectedAs: [], markup: 'start' },
  zip: { mimeType: 'application/zip', detectedAs: ['zip', ...OFFICE], markup: 'none' },
  docx: {
    mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    detectedAs: ['docx', 'zip'],
    markup: 'none',
  },
  xlsx: {
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    detectedAs: ['xlsx', 'zip'],
    markup: 'none',
  },
  pptx: {
    mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    detectedAs: ['pptx', 'zip'],
    markup: 'none',
  },
};

function extensionOf(filename: string): string | undefined {
  return /\.([A-Za-z0-9]{1,8})$/.exec(filename)?.[1]?.toLowerCase();
}

/** The type a file of this name is sent as; undefined when its extension is not on the list. */
export function uploadType(filename: string): string | undefined {
  const ext = extensionOf(filename);
  return ext !== undefined && Object.hasOwn(UPLOAD_TYPES, ext) ? UPLOAD_TYPES[ext]!.mimeType : undefined;
}

/** How much of a file a browser reads to sniff its type (WHATWG MIME Sniffing, "resource header"). */
const SNIFF_BYTES = 1445;

// WHATWG MIME Sniffing 7.1: a body starting (after whitespace) with one of these, then a space or
// `>`, is taken for HTML by a browser that sniffs; `<?xml` for XML, `<svg` for an image that runs
// script.
const MARKUP_START =
  /^(?:\xef\xbb\xbf)?[\t\n\f\r ]*<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--|\?xml|svg)[ >]/i;
// In an image's header, where no legitimate image has it: a GIF or PNG that is also a page.
const MARKUP_IN_HEADER = /<(?:script|html|svg|iframe|body|!doctype html)[\s/>]/i;

async function sniffedHeader(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
    return asText(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/**
 * The header as the characters a reader would see. WHATWG sniffing takes a UTF-16 byte order mark
 * for plain text, but a viewer that honours the mark (older browsers, editors, Atlassian's preview)
 * renders the markup after it: so UTF-16 text is decoded and checked like any other.
 */
function asText(header: Buffer): string {
  if (header[0] === 0xff && header[1] === 0xfe) return header.subarray(2).toString('utf16le');
  if (header[0] === 0xfe && header[1] === 0xff) {
    const even = header.subarray(2, 2 + ((header.length - 2) & ~1));
    return Buffer.from(even).swap16().toString('utf16le');
  }
  // latin1: one character per byte, so the patterns match bytes whatever the encoding.
  return header.toString('latin1');
}

/** Why a file's bytes contradict its name: another known format, or markup a browser would run. */
export type ContentProblem = 'type-mismatch' | 'markup';

/**
 * Checks a spooled upload against the type its extension claims. Undefined: the bytes fit. A file
 * whose extension is not on the list never gets here (refused by name first).
 */
export async function contentProblem(filename: string, path: string): Promise<ContentProblem | undefined> {
  const ext = extensionOf(filename);
  const type = ext !== undefined && Object.hasOwn(UPLOAD_TYPES, ext) ? UPLOAD_TYPES[ext] : undefined;
  if (!type) return 'type-mismatch';
  const detected = (await fileTypeFromFile(path))?.ext;
  if (type.detectedAs.length === 0 ? detected !== undefined : !type.detectedAs.includes(detected ?? ''))
    return 'type-mismatch';
  if (type.markup === 'none') return undefined;
  const header = await sniffedHeader(path);
  const pattern = type.markup === 'start' ? MARKUP_START : MARKUP_IN_HEADER;
  return pattern.test(header) ? 'markup' : undefined;
}
