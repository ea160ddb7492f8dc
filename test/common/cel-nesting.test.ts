import { parse } from '@bufbuild/cel';
import { expect } from 'chai';
import { CelCompileError, compileCel } from '../../common/cel.js';
import { bracketDepth, MOST_NESTED_BRACKETS } from '../../common/cel-nesting.js';
import { parseTenant } from '../../common/config/load.js';
import { CEL_PARSE_AT_BOUND, CEL_PARSE_ATTACKS } from '../../testkit/cel-attacks.js';
import { tenantYamlWithMapping } from '../../testkit/tenants.js';

/**
 * ADR 0236: the CEL parser's time grows with the cube of an expression's nesting (1.3 s for one
 * expression of the CRD's 1,024 characters), so nesting is bounded before the parser runs.
 */
const nested = (depth: number) => `${'['.repeat(depth)}claims.email${']'.repeat(depth)}`;

function compileError(source: string): unknown {
  try {
    compileCel(source);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('CEL: nesting is bounded before the parser runs (ADR 0236)', () => {
  for (const [what, source] of Object.entries(CEL_PARSE_ATTACKS)) {
    it(`refuses ${what} (${source.length} characters) for its nesting, unparsed`, () => {
      expect(source.length).to.be.at.most(1024);
      const err = compileError(source);
      expect(err).to.be.instanceOf(CelCompileError);
      expect((err as Error).message).to.match(
        /^brackets nested \d+ deep; an expression may nest at most 32$/,
      );
    });
  }

  for (const [what, source] of Object.entries(CEL_PARSE_AT_BOUND)) {
    it(`gives ${what} to the parser, which judges it`, () => {
      expect(source.length).to.be.at.most(1024);
      expect(bracketDepth(source)).to.equal(MOST_NESTED_BRACKETS);
      expect((compileError(source) as Error | undefined)?.message ?? '').not.to.match(/nested/);
    });
  }

  it('evaluates an expression nested as deep as allowed, and refuses one level more', () => {
    let value = compileCel(nested(32))({ claims: { email: 'a@b.test' } });
    for (let level = 0; level < 32; level++) {
      expect(value).to.be.an('array').with.lengthOf(1);
      value = (value as unknown[])[0];
    }
    expect(value).to.equal('a@b.test');
    expect(compileError(nested(33)))
      .to.be.instanceOf(CelCompileError)
      .with.property('message')
      .that.match(/nested 33 deep/);
  });

  it('reports the nesting at the expression in a tenant document', () => {
    const tenant = tenantYamlWithMapping({
      email: 'claims.email',
      displayName: CEL_PARSE_ATTACKS['a list nested 341 deep, unclosed']!,
    });
    expect(() => parseTenant(tenant)).to.throw(/attributeMapping\.displayName.*brackets nested 341 deep/);
  });

  describe('counts the brackets the parser reads as code, and only those', () => {
    const cases: Array<[string, string, number]> = [
      ['in code', "f([{'a': (1)}])", 4],
      ['not inside a string', `claims.name + '((((' + "[[[[" + '''{{{{''' + """((((""" + 'x'`, 0],
      ['not inside a bytes or raw literal', `b'((((' + r'[[[[' + br"{{{{" + R'(('`, 0],
      ['not after an escaped quote', `'\\'((((' + (1)`, 1],
      ["a raw literal's backslash escapes nothing, so the quote after it ends it", `r'\\' + [[1]]`, 2],
      ['not in a comment', '// ((((\n(1)', 1],
      ["a comment's quote starts no literal", `// """\n[[[1]]] +\n// """\n[1]`, 3],
      ['a closing bracket with nothing open pays for nothing', `')'.size() + ))))(((1)))`, 3],
      ['a literal never closed hides nothing before it', "[[['((((", 3],
      ['a one-line literal ends at a line break', `'((((\n[[1]]`, 2],
    ];
    // The last three are not CEL; every other one parses, so the parser reads its literals and
    // comments as the count does.
    for (const [index, [what, source, depth]] of cases.entries()) {
      it(what, () => {
        expect(bracketDepth(source)).to.equal(depth);
        if (index < cases.length - 3) expect(() => parse(source)).not.to.throw();
      });
    }

    it('as the parser does: a string nested in brackets is one level, its brackets none', () => {
      const source = `${'['.repeat(32)}'${'['.repeat(100)}'${']'.repeat(32)}`;
      expect(bracketDepth(source)).to.equal(32);
      expect(compileCel(source)({})).to.be.an('array');
    });
  });
});
