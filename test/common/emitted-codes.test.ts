import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { packageRoot } from '../../common/paths.js';
import { type DocumentedPart, documentedCodes, ERROR_CODE_READMES } from '../../scripts/gen-error-docs.js';

/**
 * The reason codes the product's sources write where an operator reads them must each be in a
 * generated README table (ADR 0151): a code added to a log line, a condition, an Event or an error
 * class without its meaning fails here. Errors built with JsmSsoError are held to the closed sets by
 * their type already; what types do not hold is read from the syntax: a string literal given to a
 * property named `reason` or `code` (a log line's field, a condition, an error class's code), a
 * literal `cause` that looks like a code, and the reason of an Event (`events.record(owner, type,
 * reason, note)`). Lower-case values (`cause: 'unknown_key_id'`) are labels, not codes.
 */
const ROOT = packageRoot();
const SOURCE_DIRS = ['broker', 'portal', 'operator', 'common', 'cli'];
const CODE_LIKE = /^[A-Z][A-Za-z0-9]*(?:_[A-Z0-9]+)*$/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The string literals an expression or type can be: `'A'`, `c ? 'A' : 'B'`, `x ?? 'A'`, `'A' | 'B'`. */
function literals(node: ts.Node | undefined): ts.StringLiteralLike[] {
  if (!node) return [];
  if (ts.isStringLiteralLike(node)) return [node];
  if (ts.isConditionalExpression(node)) return [...literals(node.whenTrue), ...literals(node.whenFalse)];
  if (
    ts.isBinaryExpression(node) &&
    [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(node.operatorToken.kind)
  )
    return [...literals(node.left), ...literals(node.right)];
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node))
    return literals(node.expression);
  if (ts.isLiteralTypeNode(node)) return literals(node.literal);
  if (ts.isUnionTypeNode(node)) return node.types.flatMap(literals);
  return [];
}

const propertyName = (node: ts.Node): string | undefined => {
  const name = (node as { name?: ts.Node }).name;
  return name && ts.isIdentifier(name) ? name.text : undefined;
};

/** Each code a source file writes, with where. */
function emittedCodes(path: string): { code: string; at: string }[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { code: string; at: string }[] = [];
  const add = (nodes: ts.StringLiteralLike[], any: boolean) => {
    for (const node of nodes) {
      if (!any && !CODE_LIKE.test(node.text)) continue;
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push({ code: node.text, at: `${relative(ROOT, path)}:${line}` });
    }
  };
  const visit = (node: ts.Node): void => {
    const name = propertyName(node);
    if (ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node)) {
      // An object literal's `code` is left out: the portal's form problems (portal/form.ts) are keys of
      // its message catalogue, shown as text, never as codes.
      if (name === 'reason' || (name === 'code' && ts.isPropertyDeclaration(node)))
        add(literals(node.initializer), true);
      if (name === 'cause') add(literals(node.initializer), false);
    }
    if ((ts.isPropertySignature(node) || ts.isPropertyDeclaration(node)) && name === 'reason')
      add(literals(node.type), true);
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'record' &&
      node.arguments.length === 4
    )
      add(literals(node.arguments[2]), true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('reason codes the sources emit', () => {
  const documented = new Set(
    (Object.keys(ERROR_CODE_READMES) as DocumentedPart[]).flatMap((part) => documentedCodes(part)),
  );
  const emitted = SOURCE_DIRS.flatMap((dir) => sources(join(ROOT, dir))).flatMap(emittedCodes);

  it('are each in a generated README table (common/error-codes.ts, operator/errors.ts; then `npm run gen`)', () => {
    expect(
      emitted.filter(({ code }) => !documented.has(code)).map(({ code, at }) => `${code} (${at})`),
      'codes written in the sources that no README table documents',
    ).to.deep.equal([]);
  });

  it('are found in the places the scan reads (the scan itself is checked)', () => {
    const codes = new Set(emitted.map(({ code }) => code));
    // A log line's reason, a condition's, an Event's, an error class's code, a readiness cause.
    for (const code of [
      'TLS_RELOAD_FAILED',
      'CertificateExpiringSoon',
      'CleanupAbandoned',
      'OPERATOR_NOT_LEADER',
      'SecretKeyMissing',
    ])
      expect(codes, code).to.include(code);
    expect(codes).to.not.include('unknown_key_id');
  });
});
