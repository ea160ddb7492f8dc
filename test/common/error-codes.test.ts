import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import {
  type DocumentedPart,
  documentedCodes,
  ERROR_CODE_READMES,
  errorCodeReadmePath,
  renderErrorCodes,
} from '../../scripts/gen-error-docs.js';

const PARTS = Object.keys(ERROR_CODE_READMES) as DocumentedPart[];

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__pycache__' ? [] : testSources(path);
    return /\.(ts|js|mjs|py)$/.test(entry.name) && path !== THIS_FILE ? [path] : [];
  });
}

const THIS_FILE = join(packageRoot(), 'test', 'common', 'error-codes.test.ts');

describe('reason codes', () => {
  it('are documented by the generated README tables (run `npm run gen` after changing common/error-codes.ts or operator/errors.ts)', () => {
    for (const part of PARTS) {
      const readme = readFileSync(errorCodeReadmePath(part), 'utf8');
      expect(renderErrorCodes(part, readme), ERROR_CODE_READMES[part]).to.equal(readme);
    }
  });

  it('are each asserted by a test under test/ (ADR 0092: no exceptions)', () => {
    const tests = testSources(join(packageRoot(), 'test')).map((path) => readFileSync(path, 'utf8'));
    const named = (code: string) => tests.some((text) => new RegExp(`\\b${code}\\b`).test(text));
    const all = PARTS.flatMap((part) => documentedCodes(part));
    expect(
      all.filter((code) => !named(code)),
      'codes no test asserts',
    ).to.deep.equal([]);
  });
});
