import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { POOL_CRD_PATH } from '../../common/paths.js';
import { PLACEMENT_DOC_PATH, README_PATH, renderPlacementDoc, renderReadme } from '../../scripts/gen-docs.js';
import {
  GENERATED_POOL_TYPES_PATH,
  GENERATED_TYPES_PATH,
  generatePoolTypes,
  generateTenantTypes,
} from '../../scripts/gen-types.js';
import { renderPoolCrd } from '../../scripts/sync-pool-crd.js';

describe('generated tenant types', () => {
  it('match the CRD schema (run `npm run gen` after changing crds/)', async () => {
    expect(readFileSync(GENERATED_TYPES_PATH, 'utf8')).to.equal(await generateTenantTypes());
  });

  it('for the pool match its CRD schema, reusing the tenant types it shares', async () => {
    const generated = await generatePoolTypes();
    expect(readFileSync(GENERATED_POOL_TYPES_PATH, 'utf8')).to.equal(generated);
    expect(generated).to.include("from './tenant.generated.js'");
    expect(generated).to.not.match(/interface (RedisSpec|AutoscalingSpec|TenantPodSettings)\b/);
  });
});

describe('README configuration reference', () => {
  it('matches the CRD descriptions (run `npm run gen` after changing crds/)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(renderReadme(readme)).to.equal(readme);
  });

  it('of the pool (docs/placement.md) matches its CRD descriptions', () => {
    const doc = readFileSync(PLACEMENT_DOC_PATH, 'utf8');
    expect(renderPlacementDoc(doc)).to.equal(doc);
    expect(doc).to.include('| `spec.redis.urlSecretRef` |');
  });
});

describe('JsmSsoPool CRD', () => {
  it("takes spec.redis and the parts' autoscaling and pod schema from the tenant CRD (npm run gen)", () => {
    const current = readFileSync(POOL_CRD_PATH, 'utf8');
    expect(renderPoolCrd(current)).to.equal(current);
    const stale = current.replace(/Shared flow and session state\./, 'Out of date.');
    expect(stale).to.not.equal(current);
    expect(renderPoolCrd(stale)).to.equal(current);
  });
});
