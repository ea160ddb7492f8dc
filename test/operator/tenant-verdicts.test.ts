import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { keyedHash } from '../../operator/hash-key.js';
import { tenantDocumentBase64 } from '../../operator/resources/projection.js';
import { TenantVerdicts } from '../../operator/tenant-verdicts.js';
import { TEST_HASH_KEY } from '../../testkit/operator-controller.js';
import { oauth2IdpSending, tenantObject } from '../../testkit/tenants.js';

/**
 * The operator validates a tenant once per generation: a resync or the echo of its own status
 * write does not run the schema and CEL rules again (~5 ms each, most of a resync's CPU). A new
 * generation, or another tenant of the same name, is judged afresh.
 */
describe('validation verdicts remembered per tenant generation', () => {
  function stored(uid: string, generation: number, spec: Partial<JsmSsoTenant['spec']> = {}): JsmSsoTenant {
    const tenant = tenantObject('ns', 'acme', spec);
    Object.assign(tenant.metadata!, { uid, generation, resourceVersion: String(generation) });
    return tenant;
  }
  // A claim expression that does not compile: the API server stores it, the operator refuses it.
  const broken = (uid: string, generation: number) => {
    const tenant = stored(uid, generation);
    tenant.spec.identityProviders[0]!.attributeMapping = { email: 'claims.email +' };
    return tenant;
  };

  it('does not judge an unchanged generation again', () => {
    const verdicts = new TenantVerdicts(TEST_HASH_KEY);
    expect(verdicts.validate(stored('u1', 1)).condition.reason).to.equal('Valid');
    // Same uid and generation: the remembered verdict stands, whatever the object now holds (the
    // API server moves the generation with every spec change, so this cannot happen for real; it
    // shows that the rules did not run again).
    expect(verdicts.validate(broken('u1', 1)).condition.reason).to.equal('Valid');
  });

  it('judges a new generation afresh, and a new tenant of the same name', () => {
    const verdicts = new TenantVerdicts(TEST_HASH_KEY);
    verdicts.validate(stored('u1', 1));
    const invalid = verdicts.validate(broken('u1', 2));
    expect(invalid.condition).to.include({ status: 'False', reason: 'MappingInvalid' });
    expect(invalid.tenant).to.equal(undefined);
    expect(verdicts.validate(stored('u1', 3)).condition.reason).to.equal('Valid');
    expect(verdicts.validate(broken('u2', 3)).condition.reason).to.equal('MappingInvalid');
  });

  it('says SchemaInvalid for a field that breaks the schema, naming it', () => {
    const tenant = stored('u1', 1);
    (tenant.spec.broker as { url: string }).url = 'not a url';
    const { condition } = new TenantVerdicts(TEST_HASH_KEY).validate(tenant);
    expect(condition).to.include({ status: 'False', reason: 'SchemaInvalid' });
    expect(condition.message).to.include('broker');
  });

  it('says SchemaInvalid for a tenant stored before a rule that refuses it (an OAuth 2.0 IdP given acr_values, ADR 0289), naming the field', () => {
    const tenant = stored('u1', 1);
    // The CRD's defaults (attributeMapping) are the loader's to apply; the object is as stored.
    tenant.spec.identityProviders[0] = oauth2IdpSending({ acr_values: 'urn:jsm-sso:dev:mfa' }) as never;
    const { condition, tenant: applied } = new TenantVerdicts(TEST_HASH_KEY).validate(tenant);
    expect(condition).to.include({ status: 'False', reason: 'SchemaInvalid' });
    expect(condition.message).to.include(
      'spec.identityProviders[0].oauth2.extraAuthorizationParams: extraAuthorizationParams.acr_values needs OpenID Connect',
    );
    expect(applied).to.equal(undefined);
  });

  it('hands out the live metadata and no status, so a finalizer added since is seen', () => {
    const verdicts = new TenantVerdicts(TEST_HASH_KEY);
    verdicts.validate(stored('u1', 1));
    const live = stored('u1', 1);
    live.metadata = { ...live.metadata, finalizers: ['jsm-sso.io/pool-placement'] } as typeof live.metadata;
    (live as { status?: unknown }).status = { observedGeneration: 1 };
    const { tenant } = verdicts.validate(live);
    expect(tenant?.metadata).to.equal(live.metadata);
    expect(tenant).to.not.have.property('status');
  });

  it('hashes the tenant document once per generation, as the projection holds it', () => {
    const verdicts = new TenantVerdicts(TEST_HASH_KEY);
    const first = verdicts.validate(stored('u1', 1));
    expect(first.documentHash()).to.equal(keyedHash(TEST_HASH_KEY, tenantDocumentBase64(first.tenant!)));
    const renamed = verdicts.validate(
      stored('u1', 2, { broker: { url: 'https://sso.other.example' } } as never),
    );
    expect(renamed.documentHash()).to.equal(keyedHash(TEST_HASH_KEY, tenantDocumentBase64(renamed.tenant!)));
    expect(renamed.documentHash()).to.not.equal(first.documentHash());
  });

  it('forgets a deleted tenant', () => {
    const verdicts = new TenantVerdicts(TEST_HASH_KEY);
    verdicts.validate(stored('u1', 1));
    verdicts.validate(stored('u2', 1));
    verdicts.forget('u1');
    expect(verdicts.size).to.equal(1);
  });
});
