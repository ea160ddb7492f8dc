import { expect } from 'chai';
import { poolCrd, type SchemaNode, tenantCrd } from '../../common/config/crd-schema.js';
import { checkTenant } from '../../common/config/load.js';
import { ConfigError } from '../../common/errors.js';
import { ApiError } from '../../common/kube/client.js';
import {
  LARGEST_UPLOAD_BYTES,
  MAX_FILES_PER_FORM,
  POOL_UPLOAD_SPOOL_DEFAULT_MIB,
  POOL_UPLOAD_SPOOL_MAX_MIB,
  POOL_UPLOAD_SPOOL_MIN_MIB,
} from '../../common/upload-spool-size.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import {
  ACCEPTED_TENANT_CASES,
  CEL_RULE_CASES,
  createPool,
  createTenantSecrets,
  tenantObject,
  validTenantDocument,
} from '../../testkit/tenants.js';

type Spec = Record<string, unknown>;

/**
 * The API server itself enforces the tenant contract: every CEL rule in crds/jsmssotenant.yaml has
 * a tenant that breaks it here, and checkTenant (used by the operator and the standalone parts)
 * must reach the same verdict.
 */
describe('JsmSsoTenant CRD on a real API server', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'crd');
  });

  async function serverVerdict(spec: Spec): Promise<string | undefined> {
    return serverVerdictOn(tenantObject(namespace, 'acme', spec));
  }

  async function serverVerdictOn(tenant: unknown): Promise<string | undefined> {
    try {
      await env.client.create(collectionPath(KINDS.tenant, namespace), tenant, { dryRun: 'All' });
      return undefined;
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) return err.message;
      throw err;
    }
  }

  function localVerdict(spec: Spec): string | undefined {
    try {
      checkTenant(structuredClone(tenantObject(namespace, 'acme', spec)));
      return undefined;
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  }

  async function expectRefused(spec: Spec, message: string): Promise<void> {
    const server = await serverVerdict(spec);
    expect(server, 'the API server accepted it').to.be.a('string');
    expect(server).to.include(message);
    expect(localVerdict(spec), 'checkTenant accepted it').to.include(message);
  }

  const idp = (extra: Spec) => ({ name: 'corporate', ...extra });
  const oidc = { issuer: 'https://idp.example', clientId: 'c', clientSecretRef: { name: 'x' } };

  it('accepts the valid tenant', async () => {
    expect(await serverVerdict({})).to.equal(undefined);
    expect(localVerdict({})).to.equal(undefined);
  });

  it('refuses more than one replica without redis', async () => {
    await expectRefused({ portal: { url: 'https://help.example', replicas: 2 } }, 'without spec.redis');
  });

  it("refuses access mode 'groups' when an IdP maps no groups attribute", async () => {
    await expectRefused(
      { portal: { url: 'https://help.example', access: { mode: 'groups', groups: ['staff'] } } },
      "needs a 'groups' entry",
    );
  });

  it('refuses a plain http URL off loopback', async () => {
    await expectRefused({ portal: { url: 'http://help.example' } }, 'must be an absolute https:// URL');
  });

  it('accepts plain http to a .localhost name for the portal and broker URLs, on the server and offline', async () => {
    const spec = {
      portal: { url: 'http://acme.localhost:8080' },
      broker: { url: 'http://acme.localhost:8081' },
    };
    expect(await serverVerdict(spec)).to.equal(undefined);
    expect(localVerdict(spec)).to.equal(undefined);
  });

  it('refuses a name that only starts like .localhost, and a .localhost issuer the broker would fetch', async () => {
    await expectRefused(
      { portal: { url: 'http://acme.localhost.evil.example' } },
      'must be an absolute https:// URL',
    );
    await expectRefused(
      { identityProviders: [idp({ oidc: { ...oidc, issuer: 'http://idp.localhost:8082' } })] },
      'must be an absolute https:// URL',
    );
  });

  it('refuses a portal URL with a path: the portal serves at the root of its host', async () => {
    await expectRefused({ portal: { url: 'https://example.com/help' } }, 'must have no path');
    await expectRefused({ portal: { url: 'https://example.com:8443/help/portal' } }, 'must have no path');
  });

  it('refuses a URL with a trailing slash', async () => {
    await expectRefused({ broker: { url: 'https://sso.example/' } }, 'must not end with a slash');
  });

  it('refuses a logo URL that is neither https nor a path', async () => {
    await expectRefused(
      { portal: { url: 'https://help.example', branding: { logoUrl: 'http://cdn.example/logo.png' } } },
      'must be an https:// URL or an absolute path',
    );
  });

  it("refuses access mode 'groups' without groups", async () => {
    await expectRefused(
      { portal: { url: 'https://help.example', access: { mode: 'groups' } } },
      'needs at least one group',
    );
  });

  it('refuses two identity providers with one name', async () => {
    await expectRefused({ identityProviders: [idp({ oidc }), idp({ oidc })] }, 'names must be unique');
  });

  it('refuses an identity provider with two protocols', async () => {
    await expectRefused(
      { identityProviders: [idp({ oidc, saml: { metadataUrl: 'https://idp.example/md' } })] },
      'exactly one of oidc, oauth2 or saml',
    );
  });

  it('refuses private_key_jwt without a private key', async () => {
    await expectRefused(
      { identityProviders: [idp({ oidc: { ...oidc, clientAuthMethod: 'private_key_jwt' } })] },
      'private_key_jwt needs privateKeySecretRef',
    );
  });

  it('refuses a SAML IdP with both metadataUrl and metadataXml', async () => {
    await expectRefused(
      { identityProviders: [idp({ saml: { metadataUrl: 'https://idp.example/md', metadataXml: '<x/>' } })] },
      'exactly one of metadataUrl, metadataXml or entityId',
    );
  });

  it('refuses a SAML entityId without ssoUrl and certificates', async () => {
    await expectRefused(
      { identityProviders: [idp({ saml: { entityId: 'https://idp.example' } })] },
      'entityId needs ssoUrl and at least one certificate',
    );
  });

  it('refuses an organization mapping with both emailDomain and idpGroup', async () => {
    await expectRefused(
      {
        atlassian: {
          siteUrl: 'https://acme.atlassian.net',
          credentialsSecretRef: { name: 'a' },
          organizationMappings: [{ organizationId: '1', emailDomain: 'acme.example', idpGroup: 'staff' }],
        },
      },
      'exactly one of emailDomain or idpGroup',
    );
  });

  describe('the shared rule table (also run against the offline loader in test/common)', () => {
    const tableDocument = (mutate: (doc: ReturnType<typeof validTenantDocument>) => void) => {
      const doc = validTenantDocument();
      mutate(doc);
      return { ...doc, metadata: { ...(doc['metadata'] as object), namespace } };
    };

    for (const testCase of CEL_RULE_CASES) {
      it(`refuses at admission: ${testCase.rule}`, async () => {
        const server = await serverVerdictOn(tableDocument(testCase.mutate));
        expect(server, 'the API server accepted it').to.be.a('string');
        expect(server).to.include(`${testCase.path}:`).and.to.include(testCase.message);
      });
    }

    for (const testCase of ACCEPTED_TENANT_CASES) {
      it(`admits ${testCase.shape}`, async () => {
        expect(await serverVerdictOn(tableDocument(testCase.mutate))).to.equal(undefined);
      });
    }
  });

  describe('IdP authority (each IdP speaks only for its own e-mail domains)', () => {
    const acme = { name: 'acme', emailDomains: ['acme.test', '*.acme.test'], oidc };
    const partner = { name: 'partner', emailDomains: ['partner.test'], oidc };
    const social = { name: 'social', authority: 'catchAll', oidc };

    it('accepts IdPs with disjoint domains and one catchAll, on the server and offline', async () => {
      const spec = { identityProviders: [acme, partner, social] };
      expect(await serverVerdict(spec)).to.equal(undefined);
      expect(localVerdict(spec)).to.equal(undefined);
    });

    it('judges the cost of the e-mail domain rule as the API server does: admits what it admits, refuses what it refuses', async () => {
      // Five IdPs, each with 30 distinct wildcard domains: every pair of domains of every pair of
      // IdPs is compared. kube-apiserver admits labels of 50 characters and refuses them at 100,
      // its per-call cost limit passed.
      const domains = (length: number) =>
        [0, 1, 2, 3, 4].map((i) => ({
          name: `idp${i}`,
          oidc,
          emailDomains: Array.from({ length: 30 }, (_, j) => `*.${'a'.repeat(length)}${i}x${j}.example`),
        }));
      expect(await serverVerdict({ identityProviders: domains(50) })).to.equal(undefined);
      expect(localVerdict({ identityProviders: domains(50) }), 'checkTenant').to.equal(undefined);
      await expectRefused(
        { identityProviders: domains(100) },
        'an e-mail domain may belong to one identity provider only',
      );
      expect(localVerdict({ identityProviders: domains(100) })).to.include('cost');
    });

    it('refuses several IdPs when one lists no emailDomains', async () => {
      await expectRefused(
        { identityProviders: [acme, { name: 'partner', oidc }] },
        'each one except the catchAll must list the emailDomains',
      );
    });

    it('refuses one domain listed by two IdPs', async () => {
      await expectRefused(
        { identityProviders: [acme, { ...partner, emailDomains: ['partner.test', 'acme.test'] }] },
        'an e-mail domain may belong to one identity provider only',
      );
    });

    it("refuses a subdomain of another IdP's *.domain", async () => {
      await expectRefused(
        { identityProviders: [acme, { ...partner, emailDomains: ['eu.acme.test'] }] },
        'an e-mail domain may belong to one identity provider only',
      );
    });

    it('refuses two catchAll IdPs', async () => {
      await expectRefused(
        { identityProviders: [acme, social, { ...social, name: 'social-two' }] },
        'at most one identity provider may have authority catchAll',
      );
    });

    it('refuses an emailDomains entry that is not a lower-case domain or *.domain', async () => {
      await expectRefused({ identityProviders: [{ ...acme, emailDomains: ['*acme.test'] }] }, 'emailDomains');
    });

    it('refuses an OAuth 2.0 or SAML IdP that does not state emailTrust', async () => {
      await expectRefused(
        { identityProviders: [{ name: 'corp', saml: { metadataUrl: 'https://idp.example/md' } }] },
        'must state emailTrust',
      );
    });

    it('refuses adminGroups with several IdPs of which none is trusted for groups', async () => {
      const portal = { url: 'https://help.example', adminGroups: ['jsm-admins'] };
      await expectRefused(
        { portal, identityProviders: [acme, partner] },
        'need an identity provider with trustGroups',
      );
      const trusted = { portal, identityProviders: [{ ...acme, trustGroups: true }, partner] };
      expect(await serverVerdict(trusted)).to.equal(undefined);
      expect(localVerdict(trusted)).to.equal(undefined);
    });
  });

  it('refuses a schema violation (unknown replicas bound)', async () => {
    const server = await serverVerdict({ broker: { url: 'https://sso.example', replicas: 0 } });
    expect(server).to.include('spec.broker.replicas');
  });

  it("holds tenant and pool conditions to metav1.Condition's rules: a CamelCase reason, a type without spaces, observedGeneration >= 0", async () => {
    await createPool(env.client, namespace, 'conditions');
    await createTenantSecrets(env.client, namespace, 'conditions');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'conditions'));
    const condition = {
      type: 'Ready',
      status: 'False',
      reason: 'PoolNotFound',
      message: 'm',
      observedGeneration: 1,
      lastTransitionTime: '2026-12-02T00:00:00Z',
    };
    for (const kind of [KINDS.tenant, KINDS.pool]) {
      const statusVerdict = async (change: Partial<typeof condition>) => {
        try {
          await env.client.apply(
            `${objectPath(kind, namespace, 'conditions')}/status`,
            {
              apiVersion: kind.apiVersion,
              kind: kind.kind,
              metadata: { name: 'conditions', namespace },
              status: { conditions: [{ ...condition, ...change }] },
            },
            { fieldManager: 'crd-test', force: true, dryRun: true },
          );
          return undefined;
        } catch (err) {
          if (err instanceof ApiError && err.status === 422) return err.serverMessage;
          throw err;
        }
      };
      expect(await statusVerdict({}), kind.kind).to.equal(undefined);
      expect(await statusVerdict({ reason: 'pool not found' }), kind.kind).to.include(
        'status.conditions[0].reason',
      );
      expect(await statusVerdict({ reason: '' }), kind.kind).to.include('status.conditions[0].reason');
      expect(await statusVerdict({ type: 'Is Ready' }), kind.kind).to.include('status.conditions[0].type');
      expect(await statusVerdict({ observedGeneration: -1 }), kind.kind).to.include(
        'status.conditions[0].observedGeneration',
      );
    }
  });

  it('says why a tenant or pool is not Ready in kubectl get -o wide (Reason), the default columns unchanged', async () => {
    await createPool(env.client, namespace, 'reasons');
    await createTenantSecrets(env.client, namespace, 'reasons');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'reasons'));
    for (const kind of [KINDS.tenant, KINDS.pool]) {
      await env.client.apply(
        `${objectPath(kind, namespace, 'reasons')}/status`,
        {
          apiVersion: kind.apiVersion,
          kind: kind.kind,
          metadata: { name: 'reasons', namespace },
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'False',
                reason: 'SecretMissing',
                message: 'm',
                observedGeneration: 1,
                lastTransitionTime: '2026-12-03T00:00:00Z',
              },
            ],
          },
        },
        { fieldManager: 'crd-test', force: true },
      );
      // What kubectl get asks for: the API server's Table of the printer columns.
      const table = await env.client.request<{
        columnDefinitions: { name: string; priority: number }[];
        rows: { cells: unknown[] }[];
      }>('GET', objectPath(kind, namespace, 'reasons'), {
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      });
      const columns = table.columnDefinitions;
      const reason = columns.findIndex((c) => c.name === 'Reason');
      expect(reason, kind.kind).to.be.greaterThan(0);
      expect(columns[reason]!.priority, 'shown with -o wide only').to.equal(1);
      expect(table.rows[0]!.cells[reason]).to.equal('SecretMissing');
      expect(columns.filter((c) => c.priority === 0).map((c) => c.name)).to.deep.equal(
        kind === KINDS.tenant
          ? ['Name', 'Ready', 'Portal URL', 'IdPs', 'Placement', 'Age']
          : ['Name', 'Ready', 'Tenants', 'Age'],
      );
    }
  });
  it("keeps a tenant's spec.portal.limits.signInStarts.perTenant as written, writes no default for it and bounds it (ADR 0256)", async () => {
    type Created = { spec: { portal: { limits: { signInStarts: Record<string, number> } } } };
    const create = (signInStarts: Record<string, number>) =>
      env.client.create<Created>(
        collectionPath(KINDS.tenant, namespace),
        tenantObject(namespace, 'acme', {
          portal: { url: 'https://help.acme.example', limits: { signInStarts } },
        } as Spec),
        { dryRun: 'All' },
      );
    expect((await create({ perTenant: 250 })).spec.portal.limits.signInStarts).to.deep.equal({
      perIp: 30,
      perTenant: 250,
    });
    // No default: a tenant made before the field keeps the document its pods were made from.
    expect((await create({})).spec.portal.limits.signInStarts).to.deep.equal({ perIp: 30 });
    await expectRefused(
      { portal: { url: 'https://help.acme.example', limits: { signInStarts: { perTenant: 99 } } } } as Spec,
      'spec.portal.limits.signInStarts.perTenant',
    );
  });

  it("defaults, bounds and documents a pool's spec.portal.uploadSpool.maxMiB as the portal's --upload-spool-mib does (ADR 0165)", async () => {
    const pools = collectionPath(KINDS.pool, namespace);
    const created = await env.client.create<{ spec: { portal: { uploadSpool: { maxMiB: number } } } }>(
      pools,
      {
        apiVersion: 'jsm-sso.io/v1alpha1',
        kind: 'JsmSsoPool',
        metadata: { name: 'spool', namespace },
        spec: { portal: { uploadSpool: {} } },
      },
      { dryRun: 'All' },
    );
    expect(created.spec.portal.uploadSpool.maxMiB).to.equal(POOL_UPLOAD_SPOOL_DEFAULT_MIB);
    const refusal = await env.client
      .create(
        pools,
        {
          apiVersion: 'jsm-sso.io/v1alpha1',
          kind: 'JsmSsoPool',
          metadata: { name: 'spool', namespace },
          spec: { portal: { uploadSpool: { maxMiB: POOL_UPLOAD_SPOOL_MIN_MIB - 1 } } },
        },
        { dryRun: 'All' },
      )
      .then(
        () => 'admitted',
        (error: Error) => error.message,
      );
    expect(refusal)
      .to.include('spec.portal.uploadSpool.maxMiB')
      .and.include(String(POOL_UPLOAD_SPOOL_MIN_MIB));
    // The CRD and the process agree on the bounds, and the least is one form at the largest limits.
    const field =
      poolCrd().schema.properties!['spec']!.properties!['portal']!.properties!['uploadSpool']!.properties![
        'maxMiB'
      ]!;
    expect([field['minimum'], field.default, field['maximum']]).to.deep.equal([
      POOL_UPLOAD_SPOOL_MIN_MIB,
      POOL_UPLOAD_SPOOL_DEFAULT_MIB,
      POOL_UPLOAD_SPOOL_MAX_MIB,
    ]);
    const limits = tenantCrd().schema.properties!['spec']!.properties!['portal']!.properties!['limits']!;
    expect(limits.properties!['maxUploadBytes']!['maximum']).to.equal(LARGEST_UPLOAD_BYTES);
    expect(POOL_UPLOAD_SPOOL_MIN_MIB * 2 ** 20).to.equal(MAX_FILES_PER_FORM * LARGEST_UPLOAD_BYTES);
    // What kubectl explain jsmssopool.spec.portal.uploadSpool reads.
    const published = await env.client.get<{
      components: { schemas: Record<string, { properties?: Record<string, SchemaNode> }> };
    }>('/openapi/v3/apis/jsm-sso.io/v1alpha1');
    const pool = Object.entries(published!.components.schemas).find(([name]) =>
      name.endsWith('.JsmSsoPool'),
    )![1];
    expect(
      pool.properties!['spec']!.properties!['portal']!.properties!['uploadSpool']!.description,
    ).to.include('PORTAL_POOL_UPLOADS_BUSY');
  });
  it("defaults a pool's spec.tenants to its own namespace (Gateway API's allowedRoutes), refuses a selector without from: Selector and the reverse, and publishes the text kubectl explain reads (ADR 0213)", async () => {
    const pools = collectionPath(KINDS.pool, namespace);
    const pool = (tenants?: unknown) => ({
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'tenancy', namespace },
      spec: tenants === undefined ? {} : { tenants },
    });
    const outcome = (tenants?: unknown) =>
      env.client.create<{ spec: { tenants: unknown } }>(pools, pool(tenants), { dryRun: 'All' }).then(
        (created) => created.spec.tenants,
        (error: Error) => error.message,
      );
    expect(await outcome()).to.deep.equal({ namespaces: { from: 'Same' } });
    expect(await outcome({})).to.deep.equal({ namespaces: { from: 'Same' } });
    const selector = {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['acme'] }],
    };
    expect(await outcome({ namespaces: { from: 'Selector', selector } })).to.deep.equal({
      namespaces: { from: 'Selector', selector },
    });
    expect(await outcome({ namespaces: { from: 'Selector' } }))
      .to.include('spec.tenants.namespaces.selector')
      .and.include('from: Selector needs selector');
    expect(await outcome({ namespaces: { from: 'All', selector } })).to.include(
      'selector is only read with from: Selector',
    );
    expect(await outcome({ namespaces: { from: 'Elsewhere' } })).to.include('Unsupported value: "Elsewhere"');
    for (const expression of [
      { key: 'team', operator: 'In', values: [] },
      { key: 'team', operator: 'In' },
      { key: 'team', operator: 'Exists', values: ['a'] },
    ])
      expect(
        await outcome({ namespaces: { from: 'Selector', selector: { matchExpressions: [expression] } } }),
        JSON.stringify(expression),
      ).to.include('values must be non-empty for In and NotIn');
    const published = await env.client.get<{
      components: { schemas: Record<string, { properties?: Record<string, SchemaNode> }> };
    }>('/openapi/v3/apis/jsm-sso.io/v1alpha1');
    const schema = Object.entries(published!.components.schemas).find(([name]) =>
      name.endsWith('.JsmSsoPool'),
    )![1];
    const tenants = schema.properties!['spec']!.properties!['tenants']!;
    expect(tenants.description).to.include('NamespaceNotAllowed');
    expect(tenants.properties!['namespaces']!.properties!['from']!.description).to.include(
      'Same (the default)',
    );
  });
});
