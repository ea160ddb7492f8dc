// Every string a customer reads comes from the message catalogue (common/i18n): no English written
// into the portal's pages and routes.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { rawTextIn } from '../../testkit/raw-text.js';

describe('portal: no raw English in pages and routes', () => {
  const root = packageRoot();
  const files = ['portal/pages', 'portal/routes']
    .flatMap((dir) => readdirSync(join(root, dir)).map((f) => `${dir}/${f}`))
    .concat(['portal/web.ts', 'portal/app.ts', 'portal/i18n.ts'])
    .filter((f) => f.endsWith('.ts'));

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
