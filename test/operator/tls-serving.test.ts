import { expect } from 'chai';
import { checkTenant, type JsmSsoTenant } from '../../common/config/load.js';
import type { DesiredContext } from '../../operator/resources/common.js';
import { configHash, desiredDeployment } from '../../operator/resources/deployment.js';
import { secretKeysFor } from '../../operator/resources/secret-refs.js';
import { tenantObject } from '../../testkit/tenants.js';

/** A tenant whose broker pods serve HTTPS themselves from `acme-broker-tls` (issue: TLS on every hop). */
function context(tlsCertHash = 'h-crt'): DesiredContext {
  const base = tenantObject('ns', 'acme');
  const tenant: JsmSsoTenant = checkTenant({
    ...base,
    spec: { ...base.spec, broker: { ...base.spec.broker, tlsSecretRef: { name: 'acme-broker-tls' } } },
  });
  tenant.metadata!.uid = 'uid-1';
  const facts = (keyHashes: Record<string, string>, certificates: Record<string, string> = {}) => ({
    keyHashes,
    certificates,
    privateKeys: {},
  });
  return {
    tenant,
    settings: { image: 'img:1', ingressNamespaceLabels: { ing: 'x' }, metricsNamespaceLabels: { mon: 'y' } },
    secrets: {
      'acme-oidc': facts({ clientSecret: 'h1' }),
      'acme-atlassian': facts({ email: 'h2', apiToken: 'h3' }),
      'acme-broker-signing': facts({ 'tls.crt': 'h4', 'tls.key': 'h5' }, { 'tls.crt': 'BROKER' }),
      'acme-portal-signing': facts({ 'tls.crt': 'h6', 'tls.key': 'h7' }, { 'tls.crt': 'PORTAL' }),
      'acme-broker-tls': facts({ 'tls.crt': tlsCertHash, 'tls.key': 'h-key' }),
    },
  };
}

describe('operator: pods that serve HTTPS themselves (spec.<part>.tlsSecretRef)', () => {
  it('mounts the TLS Secret into the broker only and points --tls-cert/--tls-key at it', () => {
    const broker = secretKeysFor(context().tenant, 'broker').map((u) => `${u.secret}/${u.key}`);
    const portal = secretKeysFor(context().tenant, 'portal').map((u) => `${u.secret}/${u.key}`);
    expect(broker).to.include.members(['acme-broker-tls/tls.crt', 'acme-broker-tls/tls.key']);
    expect(portal).to.not.include('acme-broker-tls/tls.key');
    const args = desiredDeployment(context(), 'broker').spec!.template.spec!.containers[0]!.args!;
    const cert = args[args.indexOf('--tls-cert') + 1];
    const key = args[args.indexOf('--tls-key') + 1];
    expect(cert).to.equal('/var/run/jsm-sso/secrets/acme-broker-tls/tls.crt');
    expect(key).to.equal('/var/run/jsm-sso/secrets/acme-broker-tls/tls.key');
  });

  it('rolls the broker pods when the TLS certificate changes, and not the portal pods', () => {
    expect(configHash(context('renewed'), 'broker')).to.not.equal(configHash(context(), 'broker'));
    expect(configHash(context('renewed'), 'portal')).to.equal(configHash(context(), 'portal'));
  });

  it('trusts one proxy hop for the client IP exactly when the tenant has an Ingress', () => {
    const argsOf = (c: DesiredContext) =>
      desiredDeployment(c, 'portal').spec!.template.spec!.containers[0]!.args!;
    expect(argsOf(context())).to.not.include('--trusted-proxy-hops');
    const withIngress = context();
    withIngress.tenant.spec.ingress = { className: 'nginx' };
    const args = argsOf(withIngress);
    expect(args[args.indexOf('--trusted-proxy-hops') + 1]).to.equal('1');
  });
});
