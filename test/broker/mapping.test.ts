import { expect } from 'chai';
import { compileMapping, type MappingProblem } from '../../broker/mapping.js';
import { createBrokerTelemetry } from '../../broker/telemetry.js';
import { validateTenantDocument } from '../../common/config/validate.js';
import { JsmSsoError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { validTenantDocument } from '../../testkit/tenants.js';

describe('broker: claim mapping errors are visible', () => {
  const subject = (claims: Record<string, unknown>) => ({
    idp: 'corp',
    subject: 's1',
    claims,
    emailVerified: false,
  });
  const mapping = {
    name: 'corp',
    attributeMapping: {
      email: 'claims.email',
      department: 'claims.department',
      initials: 'claims.given_name.substring(0, 1) + claims.family_name.substring(0, 1)',
      groups: 'claims.groups.filter(g, g.startsWith("jsm-"))',
    },
  };

  function run(claims: Record<string, unknown>) {
    const problems: MappingProblem[] = [];
    const identity = compileMapping(mapping, (p) => problems.push(p))(subject(claims));
    return { identity, problems };
  }

  it('tells a claim the IdP did not send from a type error, and leaves the attribute out', () => {
    const { identity, problems } = run({
      email: 'a@acme.test',
      given_name: 'Ann',
      family_name: 'Lee',
      groups: 'jsm-admins',
    });
    expect(identity.attributes.map((a) => a.name)).to.deep.equal(['email', 'initials']);
    expect(problems).to.deep.equal([
      { idp: 'corp', attribute: 'department', problem: 'missing_claim' },
      { idp: 'corp', attribute: 'groups', problem: 'type_error' },
    ]);
  });

  for (const [what, claims] of [
    ['sent no claim for it', { given_name: 'Ann' }],
    ['sent it empty', { email: '' }],
    ['sent several values', { email: ['a@acme.test', 'b@acme.test'] }],
  ] as const) {
    it(`refuses the sign-in with 403 MAPPING_NAMEID_EMPTY when the IdP ${what} (no NameID, no assertion)`, () => {
      let refused: unknown;
      try {
        run(claims);
      } catch (err) {
        refused = err;
      }
      expect(refused).to.be.instanceOf(JsmSsoError);
      expect([(refused as JsmSsoError).code, (refused as JsmSsoError).status]).to.deep.equal([
        'MAPPING_NAMEID_EMPTY',
        403,
      ]);
    });
  }

  it('tells a claim sent by reference (_claim_names: Entra ID groups overage) from one not sent, with or without a fallback', () => {
    const problems: MappingProblem[] = [];
    const overage = {
      email: 'a@acme.test',
      _claim_names: { groups: 'src1' },
      _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/x/getMemberObjects' } },
    };
    const mapped = compileMapping(
      {
        name: 'corp',
        attributeMapping: {
          email: 'claims.email',
          groups: 'claims.groups',
          teams: 'has(claims.groups) ? claims.groups : []',
          department: 'claims.department',
        },
      },
      (p) => problems.push(p),
    )(subject(overage));
    expect(mapped.attributes.map((a) => a.name)).to.deep.equal(['email']);
    expect(problems).to.deep.equal([
      { idp: 'corp', attribute: 'groups', problem: 'distributed_claim' },
      { idp: 'corp', attribute: 'teams', problem: 'distributed_claim' },
      { idp: 'corp', attribute: 'department', problem: 'missing_claim' },
    ]);
  });

  it('reports a structured result (a map) as a type error, not a crash', () => {
    const problems: MappingProblem[] = [];
    const mapped = compileMapping(
      { name: 'corp', attributeMapping: { email: 'claims.email', profile: 'claims' } },
      (p) => problems.push(p),
    )(subject({ email: 'a@acme.test' }));
    expect(mapped.attributes.map((a) => a.name)).to.deep.equal(['email']);
    expect(problems).to.deep.equal([{ idp: 'corp', attribute: 'profile', problem: 'type_error' }]);
  });

  it('counts each problem by tenant, IdP, attribute and kind, and logs it without the value', () => {
    const registry = createMetricsRegistry();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      component: 'broker',
      tenant: 'acme',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const telemetry = createBrokerTelemetry(registry, logger, 'acme', 'test key material');
    compileMapping(mapping, (p) => telemetry.mappingProblem(p))(
      subject({ email: 'secret@acme.test', groups: 'jsm-admins', given_name: 1, family_name: 'x' }),
    );
    return registry.getSingleMetricAsString('jsm_sso_broker_mapping_problems_total').then((metric) => {
      expect(metric).to.include('tenant="acme",idp="corp",attribute="groups",problem="type_error"} 1');
      expect(metric).to.include('attribute="initials",problem="type_error"} 1');
      expect(metric).to.include('attribute="department",problem="missing_claim"} 1');
      const warned = lines.filter(
        (l) => l['event'] === 'broker.mapping_problem' && l['problem'] === 'type_error',
      );
      expect(warned.map((l) => l['attribute'])).to.have.members(['initials', 'groups']);
      expect(warned.every((l) => l['tenant'] === 'acme' && l['idp'] === 'corp')).to.equal(true);
      expect(JSON.stringify(lines)).to.not.include('secret@acme.test').and.not.include('jsm-admins');
    });
  });

  it('finds a type error offline, before any sign-in, over claims of their usual types', () => {
    const doc = validTenantDocument();
    const idp = (doc['spec'] as { identityProviders: Record<string, unknown>[] }).identityProviders[0]!;
    idp['attributeMapping'] = {
      email: 'claims.email',
      groups: 'claims.groups + 1',
      department: 'claims.department',
    };
    const problems = validateTenantDocument(doc);
    expect(problems.map((p) => p.path)).to.deep.equal(['spec.identityProviders[0].attributeMapping.groups']);
    expect(problems[0]!.message).to.match(/^type error/);
  });
});
