// Every string a customer reads comes from the message catalogue (common/i18n): no English written
// into the portal's code, pages and routes or the errors they show (ADR 0095). Operator text is
// lower-case English (log lines, error messages for the log), which the check lets through.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { rawTextIn } from '../../testkit/raw-text.js';

/** Written for operators, not customers: the command line's help and the metrics' descriptions. */
const OPERATOR_TEXT = new Set(['portal/cli.ts', 'portal/telemetry.ts']);

describe('portal: no raw English in pages, routes and the errors they show', () => {
  const root = packageRoot();
  const files = readdirSync(join(root, 'portal'), { recursive: true, encoding: 'utf8' })
    .map((f) => `portal/${f}`)
    .filter((f) => f.endsWith('.ts') && !OPERATOR_TEXT.has(f))
    .sort();

  it('reads the portal’s pages, routes, forms, uploads and Atlassian errors', () => {
    expect(files).to.include.members([
      'portal/pages/create.ts',
      'portal/routes/help-center.ts',
      'portal/form.ts',
      'portal/audience.ts',
      'portal/http/multipart.ts',
      'portal/atlassian/errors.ts',
      'portal/account-guard.ts',
    ]);
  });

  for (const file of files) {
    it(`${file} takes its text from the catalogue`, () => {
      const found = rawTextIn(join(root, file)).map((r) => `${relative(root, r.file)}:${r.line} ${r.text}`);
      expect(found, 'raw text: use ctx.i18n.t (see common/i18n/README.md)').to.deep.equal([]);
    });
  }

  it('finds raw text in a template, an attribute and a string literal', () => {
    const found = rawTextIn(join(root, 'test/fixtures/i18n/raw-text.fixture.ts')).map((r) => r.text);
    expect(found).to.deep.equal(['Search the knowledge base', 'Welcome back', 'Not found']);
  });
});
