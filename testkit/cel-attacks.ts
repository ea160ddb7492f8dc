/**
 * Expressions of at most the CRD's 1,024 characters that ran without bound before CEL evaluation
 * was metered (ADR 0232), over claims an IdP could send: test/common/cel-cost.test.ts asserts each
 * is stopped with CelCostError, `npm run bench -- cel` times how long each takes to be stopped.
 */
export const groups = Array.from({ length: 2_000 }, (_, i) => `group-number-${i}-of-the-directory`);
export const CEL_ATTACK_CLAIMS = {
  email: 'jane.doe@acme.test',
  name: 'Jane Doe',
  groups,
  csv: groups.join(','),
  big: 'ab'.repeat(50_000),
};
const WIDEN = ".replace('a', 'aaaaaaaaaa')";
const LIST_40 = `[${Array.from({ length: 40 }, (_, i) => i).join(', ')}]`;

export const CEL_ATTACKS: Record<string, string> = {
  'a chain of replace growing a string tenfold each': `'a'${WIDEN.repeat(8)}.size()`,
  "the pool audit's mapping (the chain inside a comprehension)": `[0].map(i, 'a'${WIDEN.repeat(6)}.size())`,
  'a string doubled by chained comprehensions': `['ab']${'.map(s, s + s)'.repeat(40)}[0].size()`,
  'a list doubled by chained comprehensions, then iterated': `[[1, 2]]${'.map(l, l + l)'.repeat(60)}[0].exists(x, x == 3)`,
  'a list doubled by chained comprehensions, then returned': `[[1, 2]]${'.map(l, l + l)'.repeat(30)}`,
  'comprehensions nested over a claim':
    'claims.groups.all(a, claims.groups.all(b, claims.groups.all(c, true)))',
  'comprehensions nested over lists split from a claim':
    "claims.big.split('').exists(a, claims.big.split('').exists(b, false))",
  'a claim joined with a claim as separator': "claims.csv.split(',').join(claims.big)",
  'a claim searched for in a claim': 'claims.big.contains(claims.big + claims.big)',
  'a bound passed inside || (which absorbs errors)':
    'claims.groups.all(a, claims.groups.all(b, claims.groups.all(c, true))) || true',
  'a pattern that compiles to a million instructions': `''.matches('(${'a'.repeat(900)}){1000}')`,
  'a pattern compiled to 900 instructions for each element of a claim':
    "claims.csv.split(',').exists(x, ''.matches('(a{30}){30}'))",
  'a pattern whose DFA overflows, over a long claim': "claims.big.matches('(a|b)*a(a|b){200}c')",
  'lists compared whole in a loop':
    "claims.csv.split(',').all(x, claims.csv.split(',') == claims.csv.split(','))",
  // Work a call did that its operands did not show (on the old code each gave its value, after
  // 0.1–7 s when the loop is taken to the bound):
  'a claim counted in code points for each element of a claim': 'claims.groups.all(g, claims.big.size() > 0)',
  "a timestamp's fields in a time zone for each element of a claim":
    "claims.groups.all(g, timestamp('2020-01-01T00:00:00Z').getHours('America/New_York') >= 0)",
  'a fixed-point format for each element of a claim': "claims.groups.all(g, '%.2f'.format([1.5]) != '')",
  'a pattern of 250 Unicode classes compiled 40 times': `${LIST_40}.all(i, !''.matches(r'${'\\pL'.repeat(250)}'))`,
};

/** `unit` repeated to fill 1,024 characters at most: the longest expression the CRD admits. */
const filled = (unit: string, prefix = '') =>
  prefix + unit.repeat(Math.floor((1_024 - prefix.length) / unit.length));

/**
 * Expressions of at most 1,024 characters the CEL parser took from a few hundred milliseconds to
 * 1.3 s to read before nesting was bounded (ADR 0236): each is refused before it is parsed now.
 */
export const CEL_PARSE_ATTACKS: Record<string, string> = {
  'brackets nested 682 deep under unary minus, unclosed': filled('[-('),
  'lists, maps and parentheses nested 438 deep, unclosed': filled('[1,{1:('),
  'a list nested 341 deep, unclosed': filled('[1,'),
  'parentheses and lists nested 512 deep, unclosed': filled('(['),
  'parentheses nested 500 deep and closed': `${'('.repeat(500)}1${')'.repeat(500)}`,
};

/** Nested as deep as an expression may (32), the rest of its 1,024 characters the parser's dearest. */
export const CEL_PARSE_AT_BOUND: Record<string, string> = {
  'brackets nested 32 deep under unary minus, then a sum, unclosed': filled('-1+', '[-('.repeat(16)),
  'a list nested 32 deep, then elements, unclosed': filled('1,', '[1,'.repeat(32)),
  'lists, maps and parentheses nested 32 deep, then negations': filled('-', '[1,{1:('.repeat(10) + '[1,{1:'),
  'a call nested 32 deep, then arguments, unclosed': filled('1,', 'f(-'.repeat(32)),
};
