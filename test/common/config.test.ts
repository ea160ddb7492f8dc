import { expect } from 'chai';
import { stringify } from 'yaml';
import { type SchemaNode, tenantCrd } from '../../common/config/crd-schema.js';
import { checkStoredTenant, checkTenant, loadTenantFile, parseTenant } from '../../common/config/load.js';
import { ConfigError, type ConfigProblem } from '../../common/errors.js';
import { ACCEPTED_TENANT_CASES, CEL_RULE_CASES, validTenantDocument } from '../../testkit/tenants.js';

function problemsOf(document: unknown): ConfigProblem[] {
  try {
    checkTenant(document);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  return [];
}

describe('tenant configuration loader', () => {
  it('loads a valid tenant and applies the CRD defaults', () => {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    // No default: a part has either replicas or autoscaling, and one pod when it has neither.
    expect(tenant.spec.portal.replicas).to.equal(undefined);
    expect(tenant.spec.portal.title).to.equal('Acme Help Center');
    expect(tenant.spec.broker.assertionLifetimeSeconds).to.equal(300);
    expect(tenant.spec.broker.flowTtlSeconds).to.equal(600);
    expect(tenant.spec.atlassian.customerProvisioning).to.equal('createOnFirstLogin');
    const idp = tenant.spec.identityProviders[0];
    expect(idp.oidc?.clientAuthMethod).to.equal('client_secret_basic');
    expect(idp.oidc?.clientSecretRef?.key).to.equal('clientSecret');
    expect(idp.oidc?.scopes).to.deep.equal(['openid', 'email', 'profile']);
    expect(idp.nameId).to.equal(undefined);
    expect(idp.attributeMapping).to.have.property('email', 'claims.email');
  });

  it('lists every problem of a bad file with its field path', () => {
    let error: unknown;
    try {
      loadTenantFile('test/fixtures/tenant-invalid.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).code).to.equal('CONFIG_INVALID');
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).to.include.members([
      'spec.portal.colour',
      'spec.portal.url',
      'spec.broker.url',
      'spec.broker.assertionLifetimeSeconds',
      'spec.identityProviders[0].name',
      'spec.identityProviders[0]',
      'spec.identityProviders[0].oidc',
      'spec.identityProviders[0].attributeMapping.email',
      'spec.atlassian.credentialsSecretRef',
      'spec.redis',
    ]);
  });

  it('refuses unknown fields at any depth, as kubectl strict field validation does', () => {
    const doc = validTenantDocument();
    doc.spec.identityProviders[0].oidc.clientSecret = 'inline';
    doc.spec.extra = true;
    expect(problemsOf(doc)).to.deep.include.members([
      { path: 'spec.identityProviders[0].oidc.clientSecret', message: 'unknown field' },
      { path: 'spec.extra', message: 'unknown field' },
    ]);
  });

  it('ignores and prunes unknown fields of a stored object (newer CRD, older code), naming them', () => {
    const doc = validTenantDocument();
    doc.spec.signatureAlgorithmNext = 'rsa-sha512';
    doc.spec.identityProviders[0].oidc.futureOption = { enabled: true };
    const { tenant, ignoredFields } = checkStoredTenant(doc);
    expect(ignoredFields).to.have.members([
      'spec.signatureAlgorithmNext',
      'spec.identityProviders[0].oidc.futureOption',
    ]);
    expect(tenant.spec).to.not.have.property('signatureAlgorithmNext');
    expect(tenant.spec.identityProviders[0]!.oidc).to.not.have.property('futureOption');
    // The known fields are still checked and defaulted.
    expect(tenant.spec.broker.assertionLifetimeSeconds).to.equal(300);
  });

  it('still refuses type errors and invalid values of known fields in a stored object', () => {
    const doc = validTenantDocument();
    doc.spec.futureField = 1;
    doc.spec.broker.assertionLifetimeSeconds = 'long';
    doc.spec.atlassian.customerProvisioning = 'sometimes';
    let error: unknown;
    try {
      checkStoredTenant(doc);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).to.include.members([
      'spec.broker.assertionLifetimeSeconds',
      'spec.atlassian.customerProvisioning',
    ]);
    expect(paths).to.not.include('spec.futureField');
  });

  it('refuses a document of another kind or version', () => {
    const doc = validTenantDocument();
    doc.apiVersion = 'jsm-sso.io/v1';
    doc.kind = 'Tenant';
    expect(problemsOf(doc).map((p) => p.path)).to.include.members(['apiVersion', 'kind']);
  });

  it('requires metadata.name', () => {
    const doc = validTenantDocument();
    doc.metadata = {};
    expect(problemsOf(doc).map((p) => p.path)).to.include('metadata.name');
  });

  it('refuses a metadata.uid that is no label value (TENANT_UID_INVALID): a `:`, `@`, `{` or `}` would make its store keys ambiguous or a Redis Cluster hash tag', () => {
    const refused = (uid: unknown) => {
      const doc = validTenantDocument();
      doc.metadata = { name: 'acme', uid };
      return problemsOf(doc);
    };
    for (const uid of ['a:b', 'acme@x', '{tag}', 'a}', 'a{b', '', ' ', `${'a'.repeat(64)}`, 'x-', 42]) {
      expect(refused(uid), JSON.stringify(uid)).to.deep.equal([
        {
          path: 'metadata.uid',
          message:
            'must be a Kubernetes label value (1 to 63 letters, digits, "-", "_" or ".", alphanumeric at both ends), as the API server writes metadata.uid',
          code: 'TENANT_UID_INVALID',
        },
      ]);
    }
    for (const uid of ['0b8a51c4-3f1e-4d7e-9c55-6a1f7e2d9b10', 'uid-1', 'a'.repeat(63), 'A.b_c'])
      expect(refused(uid), uid).to.deep.equal([]);
  });

  it('refuses an attribute mapping whose CEL does not compile', () => {
    const doc = validTenantDocument();
    doc.spec.identityProviders[0].attributeMapping = {
      email: 'claims.email',
      groups: 'claims.groups.filter(g,',
    };
    const problems = problemsOf(doc);
    expect(problems).to.have.length(1);
    expect(problems[0]!.path).to.equal('spec.identityProviders[0].attributeMapping.groups');
    expect(problems[0]!.message).to.match(/^invalid CEL/);
    // The operator's MappingInvalid condition reason comes from this code, not the message text.
    expect(problems[0]!.code).to.equal('MAPPING_INVALID');
  });

  it('judges a mapping expression the same each time, in every tenant and place that uses it', () => {
    // Verdicts are remembered by expression source: a repeat must be refused just like the first.
    const source = 'claims.groups.filter(g, g.startsWith("jsm-")';
    for (const field of ['groups', 'roles']) {
      const doc = validTenantDocument();
      doc.spec.identityProviders[0].attributeMapping = { email: 'claims.email', [field]: source };
      const problems = problemsOf(doc);
      expect(problems.map((p) => [p.path, p.code])).to.deep.equal([
        [`spec.identityProviders[0].attributeMapping.${field}`, 'MAPPING_INVALID'],
      ]);
    }
  });

  it('refuses YAML with several documents or syntax errors', () => {
    expect(() => parseTenant('a: 1\n---\nb: 2\n')).to.throw(ConfigError, /exactly one YAML document/);
    expect(() => parseTenant('a: [1, 2\n')).to.throw(ConfigError);
  });

  it('refuses more than five identity providers', () => {
    const doc = validTenantDocument();
    const base = doc.spec.identityProviders[0];
    doc.spec.identityProviders = [0, 1, 2, 3, 4, 5].map((i) => ({
      ...structuredClone(base),
      name: `idp-${i}`,
    }));
    expect(problemsOf(doc)).to.deep.include({
      path: 'spec.identityProviders',
      message: 'must NOT have more than 5 items',
    });
  });

  describe('CEL rules of the CRD', () => {
    for (const testCase of CEL_RULE_CASES) {
      it(`enforces: ${testCase.rule}`, () => {
        const doc = validTenantDocument();
        testCase.mutate(doc);
        const problems = problemsOf(doc);
        const match = problems.find((p) => p.path === testCase.path && p.message.includes(testCase.message));
        expect(match, JSON.stringify(problems)).to.not.equal(undefined);
      });
    }

    for (const testCase of ACCEPTED_TENANT_CASES) {
      it(`admits ${testCase.shape}`, () => {
        const doc = validTenantDocument();
        testCase.mutate(doc);
        expect(problemsOf(doc)).to.deep.equal([]);
      });
    }

    it('refuses a value over which a rule passes its evaluation cost bound, as the API server does', () => {
      // Five IdPs of 30 long wildcard domains each, all distinct: every pair of domains of every pair
      // of IdPs is compared, far past what one evaluation may use (ADRs 0232, 0251).
      const withDomains = (count: number, length: number) => {
        const doc = validTenantDocument();
        const idp = doc.spec.identityProviders[0]!;
        doc.spec.identityProviders = [0, 1, 2, 3, 4].map((i) => ({
          ...structuredClone(idp),
          name: `idp${i}`,
          emailDomains: Array.from({ length: count }, (_, j) => `*.${'a'.repeat(length)}${i}x${j}.example`),
        }));
        return doc;
      };
      const onDomains = (doc: ReturnType<typeof validTenantDocument>) =>
        problemsOf(doc).filter((p) => p.path === 'spec.identityProviders');
      // The same rule over a few short domains is judged, and holds.
      expect(onDomains(withDomains(2, 10))).to.deep.equal([]);
      // Refused, saying why: no domain belongs to two IdPs, so the rule's own message would mislead.
      expect(onDomains(withDomains(30, 230))).to.deep.equal([
        {
          path: 'spec.identityProviders',
          message:
            'cost: judging this rule over this value passes the evaluation cost bound of a rule, so the value is refused, as the API server refuses it; the rule: an e-mail domain may belong to one identity provider only (an entry *.example.com covers every subdomain of example.com)',
        },
      ]);
    });

    it('accepts two replicas once Redis is configured', () => {
      const doc = validTenantDocument();
      doc.spec.portal.replicas = 2;
      doc.spec.broker.replicas = 3;
      doc.spec.redis = { urlSecretRef: { name: 'acme-redis' } };
      expect(problemsOf(doc)).to.deep.equal([]);
    });

    it('accepts plain http only on loopback hosts', () => {
      for (const url of [
        'http://localhost:8080',
        'http://127.0.0.1',
        'http://[::1]:1',
        'http://acme.localhost:8080',
        'http://portal.Acme-2.localhost',
      ]) {
        const doc = validTenantDocument();
        doc.spec.portal.url = url;
        // The broker may have a base path; the portal serves at its host's root (ADR 0331).
        doc.spec.broker.url = `${url}/broker`;
        expect(problemsOf(doc), url).to.deep.equal([]);
      }
      for (const url of [
        'http://localhost.evil.com',
        'http://acme.localhost.evil.com',
        'http://evil.com/.localhost',
        'http://evil.com#.localhost',
        'http://user@acme.localhost',
        'http://-acme.localhost',
        'http://.localhost',
        'http://127.0.0.1.nip.io',
        'https://x.test?q=1',
        'ftp://x.test',
      ]) {
        const doc = validTenantDocument();
        doc.spec.portal.url = url;
        expect(
          problemsOf(doc).map((p) => p.path),
          url,
        ).to.include('spec.portal.url');
      }
    });

    it('accepts a .localhost name only for the URLs browsers open, not for the ones the product fetches', () => {
      // A server resolves a .localhost name through its own resolver, which may ask DNS: plain http
      // to such a name could leave the machine, so an issuer or an Atlassian site may not use it.
      const issuer = validTenantDocument();
      issuer.spec.identityProviders[0]!.oidc!.issuer = 'http://idp.localhost:8082';
      expect(problemsOf(issuer).map((p) => p.path)).to.include('spec.identityProviders[0].oidc.issuer');
      const site = validTenantDocument();
      site.spec.atlassian.siteUrl = 'http://site.localhost:8090';
      expect(problemsOf(site).map((p) => p.path)).to.include('spec.atlassian.siteUrl');
    });
  });

  it('round-trips: a loaded tenant serialised back to YAML loads to the same object', () => {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    expect(parseTenant(stringify(tenant))).to.deep.equal(tenant);
  });
});

describe('the CRD schema', () => {
  it('describes every property (the API server forbids a description on metadata only)', () => {
    const undocumented: string[] = [];
    const walk = (node: SchemaNode, path: string) => {
      if (path && path !== 'metadata' && !node.description) undocumented.push(path);
      for (const [name, child] of Object.entries(node.properties ?? {}))
        walk(child, path ? `${path}.${name}` : name);
      if (node.items)
        walk({ ...node.items, description: node.items.description ?? node.description }, `${path}[]`);
      if (node.additionalProperties && typeof node.additionalProperties === 'object') {
        walk({ ...node.additionalProperties, description: node.description }, `${path}{}`);
      }
    };
    walk(tenantCrd().schema, '');
    expect(undocumented).to.deep.equal([]);
  });
});
