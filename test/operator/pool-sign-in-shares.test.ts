import { expect } from 'chai';
import { poolCrd } from '../../common/config/crd-schema.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import {
  POOL_SESSIONS_PER_TENANT,
  POOL_SIGN_IN_STARTS_PER_TENANT,
} from '../../common/pool/sign-in-starts.js';
import type { OperatorSettings } from '../../operator/resources/common.js';
import { desiredPoolDeployment, poolContext } from '../../operator/resources/pool.js';

/**
 * JsmSsoPool spec.portal.signInStartsPerTenant and sessionsPerTenant reach the portal pool's pods as
 * --sign-in-starts-per-tenant and --sessions-per-tenant (ADRs 0215, 0220); the CRD and the process agree
 * on their defaults and bounds.
 */
describe("a pool's shares of sign-in starts and sessions (spec.portal, ADRs 0215, 0220)", () => {
  const settings: OperatorSettings = {
    image: 'img:1',
    ingressNamespaceLabels: {},
    metricsNamespaceLabels: {},
  };
  const argsOf = (portal: JsmSsoPool['spec']['portal'], part: 'broker' | 'portal') => {
    const pool = {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace: 'pools', uid: 'uid-pool' },
      spec: { ...(portal ? { portal } : {}) },
    } as JsmSsoPool & KubeObject;
    const deployment = desiredPoolDeployment(poolContext(pool, settings, {}), part) as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    return deployment.spec.template.spec.containers[0]!.args;
  };
  const SHARES = [
    {
      field: 'signInStartsPerTenant',
      flag: '--sign-in-starts-per-tenant',
      bounds: POOL_SIGN_IN_STARTS_PER_TENANT,
    },
    { field: 'sessionsPerTenant', flag: '--sessions-per-tenant', bounds: POOL_SESSIONS_PER_TENANT },
  ] as const;

  for (const { field, flag, bounds } of SHARES) {
    const flagOf = (args: string[]) => {
      const at = args.indexOf(flag);
      return at < 0 ? undefined : args[at + 1];
    };
    const portal = (value: number) => ({ [field]: value }) as unknown as JsmSsoPool['spec']['portal'];

    it(`passes ${field} a pool sets to its portal pods as ${flag}, and no flag for the default (pods made before do not roll)`, () => {
      expect(flagOf(argsOf(portal(20_000), 'portal'))).to.equal('20000');
      expect(flagOf(argsOf(portal(bounds.default), 'portal'))).to.equal(undefined);
      expect(flagOf(argsOf(undefined, 'portal'))).to.equal(undefined);
      // The broker starts no sign-ins: it would refuse the flag.
      expect(flagOf(argsOf(portal(20_000), 'broker'))).to.equal(undefined);
    });

    it(`has the default and bounds of ${field} in the CRD that the portal process has`, () => {
      const schema = poolCrd().schema.properties!['spec']!.properties!['portal']!.properties![field]!;
      expect([schema['minimum'], schema.default, schema['maximum']]).to.deep.equal([
        bounds.min,
        bounds.default,
        bounds.max,
      ]);
    });
  }
});
