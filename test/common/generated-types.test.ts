import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { README_PATH, renderReadme } from '../../scripts/gen-docs.js';
import { GENERATED_TYPES_PATH, generateTenantTypes } from '../../scripts/gen-types.js';

describe('generated tenant types', () => {
  it('match the CRD schema (run `npm run gen` after changing crds/)', async () => {
    expect(readFileSync(GENERATED_TYPES_PATH, 'utf8')).to.equal(await generateTenantTypes());
  });
});

describe('README configuration reference', () => {
  it('matches the CRD descriptions (run `npm run gen` after changing crds/)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(renderReadme(readme)).to.equal(readme);
  });
});
