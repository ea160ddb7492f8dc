import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { checkTenant } from '../../common/config/load.js';
import { ConfigError } from '../../common/errors.js';
import { ApiError } from '../../common/kube/client.js';
import { CRD_PATH } from '../../common/paths.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { PARTS } from '../../operator/resources/common.js';
import { desiredObjects } from '../../operator/resources/index.js';
import { signingSecretName } from '../../operator/resources/secret-refs.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * A tenant's name prefixes every object the operator makes for it. A name whose children cannot
 * exist must be refused at admission (and by checkTenant, offline), not admitted and then fail on
 * a child object with no status.
 */
const DNS_LABEL = 63;

function crdNameBound(): number {
  const crd = parse(readFileSync(CRD_PATH, 'utf8'));
  const rules: { rule: string }[] = crd.spec.versions[0].schema.openAPIV3Schema['x-kubernetes-validations'];
  const bound = rules.map((r) => /^size\(self\.metadata\.name\) <= (\d+)$/.exec(r.rule)?.[1]).find(Boolean);
  if (!bound) throw new Error('the CRD has no length rule on metadata.name');
  return Number(bound);
}

/** Every name the operator may give a child of `name`: all optional objects switched on. */
function childNames(name: string): string[] {
  const tenant = checkTenant(
    structuredClone(
      tenantObject('ns', name, {
        portal: { url: 'https://help.example', replicas: 2 },
        broker: { url: 'https://sso.example', replicas: 2 },
        redis: { urlSecretRef: { name: 'r' } },
        ingress: { className: 'nginx' },
      } as never),
    ),
  );
  const secrets = Object.fromEntries(
    PARTS.map((part) => [
      signingSecretName(tenant, part),
      { keyHashes: {}, certificates: {}, privateKeys: {} },
    ]),
  );
  const settings = { image: 'img', ingressNamespaceLabels: { a: 'b' }, metricsNamespaceLabels: { c: 'd' } };
  return [
    ...desiredObjects({ tenant, settings, secrets }).map((o) => o.metadata.name!),
    ...PARTS.map((part) => signingSecretName(tenant, part)),
  ];
}

describe('tenant names', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'names');
  });

  async function serverVerdict(name: string): Promise<string | undefined> {
    try {
      await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name), {
        dryRun: 'All',
      });
      return undefined;
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) return err.message;
      throw err;
    }
  }

  function localVerdict(name: string): string | undefined {
    try {
      checkTenant(structuredClone(tenantObject(namespace, name)));
      return undefined;
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  }

  it('bounds the name length by the longest child name the operator makes', () => {
    const bound = crdNameBound();
    const longest = Math.max(...childNames('a').map((child) => child.length - 1));
    expect(bound, 'the CRD bound must be 63 minus the longest suffix').to.equal(DNS_LABEL - longest);
    for (const child of childNames('a'.repeat(bound))) expect(child, child).to.have.length.at.most(DNS_LABEL);
  });

  it('admits a name of the longest allowed length', async () => {
    const name = `a${'b'.repeat(crdNameBound() - 1)}`;
    expect(await serverVerdict(name)).to.equal(undefined);
    expect(localVerdict(name)).to.equal(undefined);
  });

  const refused: [string, string, string][] = [
    ['one character too long', `a${'b'.repeat(48)}`, 'at most 48 characters'],
    ['70 characters', 'a'.repeat(70), 'at most 48 characters'],
    ['dotted (a DNS subdomain, not a label)', 'help.acme', 'DNS-1035 label'],
    ['starting with a digit (invalid for a Service)', '1acme', 'DNS-1035 label'],
    ['ending with a hyphen', 'acme-', 'DNS-1035 label'],
  ];
  for (const [what, name, message] of refused) {
    it(`refuses a name ${what} at admission and offline`, async () => {
      expect(await serverVerdict(name), 'the API server accepted it').to.include(message);
      expect(localVerdict(name), 'checkTenant accepted it').to.include(message);
    });
  }
});
