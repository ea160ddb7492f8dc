import type { AdfNode } from './types.js';

/**
 * The text of an Atlassian Document Format node, its text nodes joined in order: what Atlassian made
 * of a plain text the portal sent, however it split it into nodes (marks, links).
 */
export function adfText(node: AdfNode | undefined): string {
  if (!node) return '';
  return (node.text ?? '') + (node.content ?? []).map(adfText).join('');
}
