// Finds text a person would read that is written into page code instead of coming from the message
// catalogue (common/i18n): the text between tags in `html` templates, the literal values of
// aria-label, title, alt and placeholder attributes, and sentence-like string literals.
import { readFileSync } from 'node:fs';
import ts from 'typescript';

export interface RawText {
  file: string;
  line: number;
  text: string;
}

const WORD = /\p{L}{2,}/u;
/** Capitalised words or sentences: 'Not found', 'Sign out', 'Your approval is requested.' */
const SENTENCE = /^\p{Lu}\p{Ll}+(?:[\s,'’-]+\p{L}+)*[.!?:]?$/u;
/** Protocol words, not prose: header names (`Retry-After`) and cookie attributes. */
const PROTOCOL = /^(?:\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)+|Cookie|Lax|Strict|None)$/u;
const READ_ATTRIBUTES = /\b(?:aria-label|title|alt|placeholder)="([^"$]*)"/g;

function templateText(node: ts.TemplateLiteral): string[] {
  // The literal parts joined by a stand-in for each substitution, so a tag split by one stays a tag.
  const whole = ts.isNoSubstitutionTemplateLiteral(node)
    ? node.text
    : [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join('\uE000');
  const out: string[] = [];
  for (const m of whole.matchAll(READ_ATTRIBUTES)) if (WORD.test(m[1]!)) out.push(m[1]!);
  // Text outside tags: drop the tags (with their attributes), entities, and CSS/JS in <style>/<script>.
  const text = whole
    .replace(/<(style|script)\b[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]*>/g, '\n')
    // A fragment of attributes only (`${current ? html` aria-current="page"` : ''}`).
    .replace(/[\w:-]+="[^"]*"/g, ' ')
    .replace(/&[a-z]+;|&#\d+;/g, ' ');
  for (const piece of text.split(/[\n\uE000]/)) if (WORD.test(piece)) out.push(piece.trim());
  return out;
}

export function rawTextIn(file: string): RawText[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: RawText[] = [];
  const note = (node: ts.Node, text: string) =>
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text });
  const visit = (node: ts.Node): void => {
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText() === 'html') {
      for (const text of templateText(node.template)) note(node, text);
    } else if (
      ts.isStringLiteral(node) &&
      !ts.isImportDeclaration(node.parent) &&
      !ts.isExportDeclaration(node.parent) &&
      SENTENCE.test(node.text) &&
      !PROTOCOL.test(node.text)
    ) {
      note(node, node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
