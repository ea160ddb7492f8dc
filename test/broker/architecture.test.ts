import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { packageRoot } from '../../common/paths.js';

/**
 * The broker's shape (issue 10 item 1, ADR 0092): the backend factory is the only place that asks
 * which protocol an IdP speaks (so a new IdP kind is a backend, a factory branch, the schema and
 * tests), and no backend imports the SAML frontend or the wiring around it.
 */
const PRODUCT = ['broker', 'common', 'operator', 'portal', 'cli'];
const FACTORY = 'broker/backends/factory.ts';
/** An IdP spec's protocol members: reading one is asking which kind the IdP is. */
const PROTOCOL_MEMBERS = new Set(['oidc', 'oauth2', 'saml']);
/** The frontend and the wiring: the SAML IdP side, its pages, the flow records and the steps. */
const FRONTEND = /^broker\/(app|pages|flows|language|refusal-text)\.ts$|^broker\/(saml|steps)\//;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
}

function nodes(source: ts.SourceFile): ts.Node[] {
  const all: ts.Node[] = [];
  const visit = (node: ts.Node): void => {
    all.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return all;
}

const relativePath = (path: string) => relative(packageRoot(), path).split('\\').join('/');

describe('broker architecture', () => {
  const files = PRODUCT.flatMap((dir) => sources(join(packageRoot(), dir)))
    .filter((path) => !path.endsWith('.generated.ts'))
    .map((path) => ({ path: relativePath(path), source: parse(path) }));

  it('asks which protocol an IdP speaks only in the backend factory and the backends themselves, in all product code', () => {
    const asked = files
      .filter(({ path }) => !path.startsWith('broker/backends/'))
      .flatMap(({ path, source }) =>
        nodes(source)
          .filter(
            (node) =>
              (ts.isPropertyAccessExpression(node) && PROTOCOL_MEMBERS.has(node.name.text)) ||
              (ts.isElementAccessExpression(node) &&
                ts.isStringLiteral(node.argumentExpression) &&
                PROTOCOL_MEMBERS.has(node.argumentExpression.text)),
          )
          .map((node) => `${path}: ${node.getText(source)}`),
      );
    expect(files.some(({ path }) => path === FACTORY)).to.equal(true);
    expect(asked).to.deep.equal([]);
  });

  it('has no backend that imports the frontend', () => {
    const imports = files
      .filter(({ path }) => path.startsWith('broker/backends/'))
      .flatMap(({ path, source }) =>
        source.statements
          .filter(ts.isImportDeclaration)
          .map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text)
          .filter((specifier) => specifier.startsWith('.'))
          .map((specifier) => join(path, '..', specifier).split('\\').join('/').replace(/\.js$/, '.ts'))
          .filter((target) => FRONTEND.test(target))
          .map((target) => `${path} imports ${target}`),
      );
    expect(imports).to.deep.equal([]);
  });

  // In Node 22 the first AsyncLocalStorage.run (or any async hook) turns on a promise hook for the
  // whole process, for good: every promise of every later sign-in pays for it (ADR 0203). The
  // broker and the code it shares pass what a call needs as a parameter instead.
  const asyncHooksUsers = (under: RegExp) =>
    files
      .filter(({ path }) => under.test(path))
      .flatMap(({ path, source }) =>
        source.statements
          .filter(ts.isImportDeclaration)
          .map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text)
          .filter((specifier) => specifier === 'node:async_hooks' || specifier === 'async_hooks')
          .map((specifier) => `${path} imports ${specifier}`),
      );

  it('uses no async_hooks (AsyncLocalStorage) in the broker or the code it shares', () => {
    expect(asyncHooksUsers(/^(broker|common)\//)).to.deep.equal([]);
  });

  // The portal pays the same hook for its page budget (ADR 0185), measured at about 4 % of a page's
  // CPU (ADR 0209); until the budget is passed as a parameter, no second user may join it.
  it('uses async_hooks in the portal only for the page budget', () => {
    expect(asyncHooksUsers(/^portal\//)).to.deep.equal([
      'portal/atlassian/page-budget.ts imports node:async_hooks',
    ]);
  });
});
