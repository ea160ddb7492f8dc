import { expect } from 'chai';
import { poolCrd } from '../../common/config/crd-schema.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import { POOL_SIGN_IN_STARTS_PER_TENANT } from '../../common/pool/sign-in-starts.js';
import type { OperatorSettings } from '../../operator/resources/common.js';
import { desiredPoolDeployment, poolContext } from '../../operator/resources/pool.js';

/**
 * JsmSsoPool spec.portal.signInStartsPerTenant reaches the portal pool's pods as
 * --sign-in-starts-per-tenant (ADR 0215); the CRD and the process agree on its default and bounds.
 */
describe("a pool's spec.portal.signInStartsPerTenant (ADR 0215)", () => {
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
  const flagOf = (args: string[]) => {
    const at = args.indexOf('--sign-in-starts-per-tenant');
    return at < 0 ? undefined : args[at + 1];
  };

  it('passes a share the pool sets to its portal pods, and no flag for the default (pods made before do not roll)', () => {
    expect(
      flagOf(argsOf({ signInStartsPerTenant: 20_000 } as JsmSsoPool['spec']['portal'], 'portal')),
    ).to.equal('20000');
    const byDefault = { signInStartsPerTenant: POOL_SIGN_IN_STARTS_PER_TENANT.default };
    expect(flagOf(argsOf(byDefault as JsmSsoPool['spec']['portal'], 'portal'))).to.equal(undefined);
    expect(flagOf(argsOf(undefined, 'portal'))).to.equal(undefined);
    // The broker starts no sign-ins: it would refuse the flag.
    expect(
      flagOf(argsOf({ signInStartsPerTenant: 20_000 } as JsmSsoPool['spec']['portal'], 'broker')),
    ).to.equal(undefined);
  });

  it('has the default and bounds in the CRD that the portal process has', () => {
    const field =
      poolCrd().schema.properties!['spec']!.properties!['portal']!.properties!['signInStartsPerTenant']!;
    expect([field['minimum'], field.default, field['maximum']]).to.deep.equal([
      POOL_SIGN_IN_STARTS_PER_TENANT.min,
      POOL_SIGN_IN_STARTS_PER_TENANT.default,
      POOL_SIGN_IN_STARTS_PER_TENANT.max,
    ]);
  });
});
