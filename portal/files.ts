/**
 * A request's files as the portal serves them: each through its own routes (download, and a
 * thumbnail for raster images), which re-check visibility; never a link to the Atlassian site.
 */

import { seg } from '../common/http/html.js';
import { attachmentId } from './atlassian/client.js';
import type { AttachmentDTO } from './atlassian/types.js';
import type { PortalFile } from './sanitize.js';

/** Image types a thumbnail may be served as: raster only (an SVG can carry script). */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);

export interface FileView extends PortalFile {
  id: string;
  /** Bytes, as Atlassian reports them. */
  size?: number | undefined;
  author?: { accountId: string; displayName?: string | undefined } | undefined;
  created?: string | undefined;
}

export function fileView(issueKey: string, attachment: AttachmentDTO): FileView | undefined {
  const id = attachmentId(attachment);
  if (id === undefined) return undefined;
  const href = `/requests/${seg(issueKey)}/attachment/${seg(id)}`;
  const thumbnail =
    attachment._links?.thumbnail !== undefined && THUMBNAIL_TYPES.has(attachment.mimeType ?? '')
      ? `${href}/thumbnail`
      : undefined;
  return {
    id,
    name: attachment.filename,
    href,
    thumbnail,
    size: attachment.size,
    author: attachment.author,
    created: attachment.created?.iso8601,
  };
}

/** The request's files the customer may open, by attachment id. */
export function filesById(issueKey: string, attachments: readonly AttachmentDTO[]): Map<string, FileView> {
  return new Map(
    attachments.flatMap((a) => {
      const view = fileView(issueKey, a);
      return view ? [[view.id, view] as const] : [];
    }),
  );
}
