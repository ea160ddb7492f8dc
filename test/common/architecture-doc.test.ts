import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { packageRoot } from '../../common/paths.js';

/**
 * docs/ARCHITECTURE.md walks the two data paths by `file:function` (issue 10 item 7). A rename that
 * forgets the document fails here: every `path` it names exists, and every `path:name` names a
 * declaration in that file (`Class.member` a member declared inside `Class`).
 */
const DOC = join(packageRoot(), 'docs', 'ARCHITECTURE.md');
const FILE = String.raw`[A-Za-z0-9_-]+(?:/[A-Za-z0-9_.-]+)+\.(?:ts|js|mjs|sh|py|yaml|json|md)`;
const FILE_REFERENCE = new RegExp(`\`(${FILE})[\`:]`, 'g');
const FUNCTION_REFERENCE = new RegExp(`\`(${FILE}):([A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*)`, 'g');

/** Every declaration in a source file that has a name, each with the names declared inside it. */
function declarations(path: string): Map<string, ts.Node[]> {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const byName = new Map<string, ts.Node[]>();
  const visit = (node: ts.Node): void => {
    const name = (node as { name?: ts.Node }).name;
    if (name && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) && DECLARATION_KINDS.has(node.kind))
      byName.set(name.text, [...(byName.get(name.text) ?? []), node]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return byName;
}

/** Nodes that declare what their `name` says: functions, classes, types, variables, members. */
const DECLARATION_KINDS = new Set([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.InterfaceDeclaration,
  ts.SyntaxKind.TypeAliasDeclaration,
  ts.SyntaxKind.EnumDeclaration,
  ts.SyntaxKind.VariableDeclaration,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.MethodSignature,
  ts.SyntaxKind.PropertyDeclaration,
  ts.SyntaxKind.PropertySignature,
  ts.SyntaxKind.PropertyAssignment,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
]);

/** Whether `Outer.inner.leaf` is declared: each name inside the declaration of the one before it. */
function resolves(found: Map<string, ts.Node[]>, dotted: string): boolean {
  const [first, ...rest] = dotted.split('.');
  let scopes = found.get(first!) ?? [];
  for (const name of rest) {
    scopes = (found.get(name) ?? []).filter((inner) =>
      scopes.some((outer) => inner.pos >= outer.pos && inner.end <= outer.end && inner !== outer),
    );
  }
  return scopes.length > 0;
}

describe('docs/ARCHITECTURE.md', () => {
  const doc = readFileSync(DOC, 'utf8');
  const root = packageRoot();

  it('names only files that exist', () => {
    const files = [...new Set([...doc.matchAll(FILE_REFERENCE)].map((m) => m[1]!))];
    expect(files.length, 'file references found').to.be.greaterThan(30);
    expect(files.filter((file) => !existsSync(join(root, file)))).to.deep.equal([]);
  });

  it('names only functions, classes and members declared in the file it gives', () => {
    const references = [...new Set([...doc.matchAll(FUNCTION_REFERENCE)].map((m) => `${m[1]}:${m[2]}`))];
    expect(references.length, 'file:function references found').to.be.greaterThan(30);
    const parsed = new Map<string, Map<string, ts.Node[]>>();
    const unresolved = references.filter((reference) => {
      const [file, name] = reference.split(':') as [string, string];
      const path = join(root, file);
      if (!existsSync(path) || !/\.(ts|js|mjs)$/.test(file)) return !existsSync(path);
      if (!parsed.has(file)) parsed.set(file, declarations(path));
      return !resolves(parsed.get(file)!, name);
    });
    expect(unresolved).to.deep.equal([]);
  });
});
