import { parse } from '@bufbuild/cel';
import { expect } from 'chai';
import { compileMapping, type MappingProblem } from '../../broker/mapping.js';
import { compileCel } from '../../common/cel.js';
import { CEL_COST_LIMIT, CelBudget, CelCostError, instrument } from '../../common/cel-cost.js';
import { parseTenant } from '../../common/config/load.js';
import { JsmSsoError } from '../../common/errors.js';
import { NAMEID_EMAIL } from '../../common/saml/namespaces.js';
import { CEL_ATTACKS as attacks, CEL_ATTACK_CLAIMS as claims, groups } from '../../testkit/cel-attacks.js';
import { tenantYamlWithMapping } from '../../testkit/tenants.js';

/**
 * ADR 0232: a tenant's CEL is metered and stopped at a bound, so an expression of the CRD's 1,024
 * characters cannot hold a pool's event loop (the pool audit's mapping held it 25 s). Each shape of
 * testkit/cel-attacks.ts grew a string or a list, nested iterations or did work its operands did
 * not show, without bound before the meter.
 */
function outcome(source: string): unknown {
  try {
    return compileCel(source)({ claims });
  } catch (err) {
    return err;
  }
}

describe('CEL: every evaluation is bounded in cost (ADR 0232)', () => {
  for (const [what, source] of Object.entries(attacks)) {
    it(`stops ${what} (${source.length} characters) with CelCostError`, () => {
      expect(source.length).to.be.at.most(1024);
      expect(outcome(source)).to.be.instanceOf(CelCostError);
    });
  }

  it("looks an int key up in a claim's map without a scan of its keys (the evaluator scans for a uint)", () => {
    const many = { email: claims.email, groups, many: Object.fromEntries(groups.map((g) => [g, g])) };
    const keys = Map.prototype.keys;
    let scans = 0;
    Map.prototype.keys = function (this: Map<unknown, unknown>) {
      scans += 1;
      return keys.call(this);
    };
    let value: unknown;
    try {
      value = compileCel(
        `claims.groups.all(g, !(1 in claims.many) && !(2.0 in claims) && claims.many[g] == g && g in claims.many)`,
      )({ claims: many });
    } finally {
      Map.prototype.keys = keys;
    }
    expect(value).to.equal(true);
    expect(scans).to.equal(0);
    expect(compileCel("{1: 'a'}[1u] + (1 in claims.many ? 'x' : 'b')")({ claims: many })).to.equal('ab');
    expect(() => compileCel('claims.many[1]')({ claims: many })).to.throw(/index 1 out of bounds/);
  });

  it('charges a timestamp or a duration made, read or compared 50 units (reflection: 1–3 µs each)', () => {
    const budget = new CelBudget();
    expect(compileCel("duration('1.5h') > duration('0s')")({}, budget)).to.equal(true);
    // Two made (50 each), two compared (50 each), and the nodes and strings.
    expect(CEL_COST_LIMIT - budget.left).to.be.within(200, 250);
  });

  it("converts a sign-in's claims for CEL once, not once per expression", () => {
    let reads = 0;
    const counted = {
      email: claims.email,
      get groups() {
        reads += 1;
        return groups;
      },
    };
    const attributeMapping = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`a${i}`, 'claims.groups.size() > 0 ? claims.email : ""']),
    );
    const identity = compileMapping({ name: 'corp', attributeMapping })({
      idp: 'corp',
      subject: 's1',
      claims: counted,
      emailVerified: true,
    });
    expect(identity.attributes).to.have.length(30);
    expect(reads).to.equal(1);
  });

  it('evaluates the mappings tenants write, over 2,000 groups, to their values', () => {
    expect(outcome('has(claims.name) ? claims.name : claims.email')).to.equal('Jane Doe');
    expect(outcome("claims.groups.filter(g, g.startsWith('group-number-19')).size()")).to.equal(111);
    expect(outcome('claims.groups.map(g, g.upperAscii())')).to.deep.equal(groups.map((g) => g.toUpperCase()));
    expect(outcome("claims.csv.split(',').filter(g, g.endsWith('7-of-the-directory')).size()")).to.equal(200);
    expect(outcome("claims.email.matches('^[a-z.]+@acme[.]test$')")).to.equal(true);
  });

  it("rewrites a macro's step into an append to its own accumulator (the parser names it with a leading @)", () => {
    const parsed = parse('claims.groups.filter(g, g.size() > 3)');
    instrument(parsed.expr!);
    const kind = parsed.expr!.exprKind;
    expect(kind.case).to.equal('comprehensionExpr');
    const step = kind.case === 'comprehensionExpr' ? kind.value.loopStep?.exprKind : undefined;
    const taken = step?.case === 'callExpr' ? step.value.args[1]?.exprKind : undefined;
    expect(taken?.case === 'callExpr' && taken.value.function).to.equal('@jsmsso.append');
  });

  it("keeps values apart: an accumulator appended in place is the comprehension's own", () => {
    expect(outcome('[1, 2, 3].map(a, [1, 2].map(b, a * b))')).to.deep.equal([
      [1, 2],
      [2, 4],
      [3, 6],
    ]);
    expect(outcome('[[1], [2]].map(l, l.filter(x, x > 1) + l)')).to.deep.equal([[1], [2, 2]]);
    // The evaluator's empty list is one shared value: appending must not change it.
    expect(outcome('[1, 2].map(x, x).size() + [].size() + [3].filter(x, false).size()')).to.equal(2);
    const twice = compileCel('[1, 2].map(x, x + 1)');
    expect([twice({}), twice({})]).to.deep.equal([
      [2, 3],
      [2, 3],
    ]);
  });

  it("refuses at validation a tenant whose mapping passes the bound over typical claims (the pool's bundles)", () => {
    const tenant = tenantYamlWithMapping({
      email: 'claims.email',
      displayName: attacks['a chain of replace growing a string tenfold each']!,
    });
    expect(() => parseTenant(tenant)).to.throw(/attributeMapping\.displayName.*cost/);
  });

  describe("a sign-in's or a tenant's expressions share one bound (5 IdPs of 31 expressions each)", () => {
    const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
    // About 560,000 units: one passes the bound, two together do not.
    const heavy = `${list(60)}.all(i, ${list(60)}.all(j, ${list(20)}.all(k, true))) ? claims.email : ''`;

    it('costs what the test says', () => {
      const budget = new CelBudget();
      expect(compileCel(heavy)({ claims }, budget)).to.equal(claims.email);
      expect(CEL_COST_LIMIT - budget.left).to.be.within(500_001, 999_999);
    });

    it('at sign-in: the second heavy attribute is left out, cost_exceeded', () => {
      const problems: MappingProblem[] = [];
      const identity = compileMapping(
        { name: 'corp', attributeMapping: { email: 'claims.email', first: heavy, second: heavy } },
        (p) => problems.push(p),
      )({ idp: 'corp', subject: 's1', claims, emailVerified: true });
      expect(identity.attributes.map((a) => a.name)).to.deep.equal(['email', 'first']);
      expect(problems).to.deep.equal([{ idp: 'corp', attribute: 'second', problem: 'cost_exceeded' }]);
    });

    for (const round of ['first', 'again (its verdict remembered)']) {
      it(`at validation, ${round}: the second heavy expression is refused`, () => {
        const tenant = tenantYamlWithMapping({ email: 'claims.email', first: heavy, second: heavy });
        expect(() => parseTenant(tenant))
          .to.throw(/attributeMapping\.second.*cost/)
          .with.property('message')
          .that.does.not.match(/attributeMapping\.first/);
      });
    }
  });

  it('leaves an attribute out at sign-in, reported cost_exceeded, and refuses an empty NameID', () => {
    const problems: MappingProblem[] = [];
    const costly = 'claims.groups.all(a, claims.groups.all(b, true)) ? claims.name : claims.email';
    const subject = { idp: 'corp', subject: 's1', claims, emailVerified: true };
    const identity = compileMapping(
      { name: 'corp', attributeMapping: { email: 'claims.email', displayName: costly } },
      (p) => problems.push(p),
    )(subject);
    expect(identity.attributes.map((a) => a.name)).to.deep.equal(['email']);
    expect(problems).to.deep.equal([{ idp: 'corp', attribute: 'displayName', problem: 'cost_exceeded' }]);
    const refused = (() => {
      try {
        return compileMapping({
          name: 'corp',
          attributeMapping: { email: 'claims.email' },
          nameId: { format: NAMEID_EMAIL, expression: costly },
        })(subject);
      } catch (err) {
        return err;
      }
    })();
    expect(refused).to.be.instanceOf(JsmSsoError).with.property('code', 'MAPPING_NAMEID_EMPTY');
  });
});
