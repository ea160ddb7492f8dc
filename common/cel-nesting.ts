/**
 * The most brackets — `(`, `[`, `{` — a CEL expression may nest. The parser of @bufbuild/cel is a
 * PEG parser whose time grows with the cube of the nesting: one 1,023-character expression
 * (`[-(` repeated, unclosed) held the event loop 1.3 s, and a tenant document may hold 155
 * expressions (ADR 0236), judged on the operator's loop every tenant shares. Nested at most this
 * deep, no 1,024-character expression found by shape or at random took more than a few
 * milliseconds. A claim mapping nests a handful of levels.
 */
export const MOST_NESTED_BRACKETS = 32;

/**
 * The deepest nesting of brackets in `source` outside string and bytes literals and comments, as
 * CEL's lexer reads them, counted before the parser runs. Where the two could read a literal
 * differently this ends it sooner (a raw prefix is taken wherever an `r` touches the quote; a
 * one-line literal ends at a line break), so brackets the parser reads as code are always counted.
 * A closing bracket with nothing open counts nothing, so it cannot pay for the openings after it.
 */
export function bracketDepth(source: string): number {
  let depth = 0;
  let deepest = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '/' && source[i + 1] === '/') i = lineEnd(source, i);
    else if (c === '"' || c === "'") i = literalEnd(source, i);
    else {
      if (c === '(' || c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
      else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
      i++;
    }
  }
  return deepest;
}

function lineEnd(source: string, from: number): number {
  const end = source.slice(from).search(/[\r\n]/);
  return end === -1 ? source.length : from + end;
}

/** Where the literal whose opening quote is at `start` ends (just past its closing quote). */
function literalEnd(source: string, start: number): number {
  const quote = source[start]!;
  const raw = start > 0 && (source[start - 1] === 'r' || source[start - 1] === 'R');
  const triple = source.startsWith(quote.repeat(3), start);
  const closing = triple ? quote.repeat(3) : quote;
  let i = start + closing.length;
  while (i < source.length) {
    if (!raw && source[i] === '\\') i += 2;
    else if (source.startsWith(closing, i)) return i + closing.length;
    else if (!triple && (source[i] === '\n' || source[i] === '\r')) return i;
    else i++;
  }
  return source.length;
}
