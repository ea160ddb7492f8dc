/**
 * Resource quantities in the form the API server stores them (ADR 0227). It keeps every quantity
 * canonical (k8s.io/apimachinery resource.Quantity's String()): `1000m` is stored as `1`, `0.5Gi`
 * as `512Mi`, `1024Mi` as `1Gi`. A desired object written otherwise never equals the live one, so
 * the operator builds its quantities canonical. @kubernetes/client-node parses quantities
 * (quantityToScalar) but does not write them.
 */

const BINARY = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

/**
 * `quantity` as the API server stores it; a value that is no quantity this knows (negative, past
 * the suffixes, malformed: the API server refuses or keeps those) is returned as it was written.
 */
export function canonicalQuantity(quantity: string | number): string {
  const text = String(quantity);
  const match = QUANTITY.exec(text);
  if (!match) return text;
  const [, number, binary, decimal, exponent] = match;
  const [whole = '', fraction = ''] = number!.split('.');
  // The value is mantissa × 10^scale (× 1024^n for a binary suffix, folded into the mantissa).
  let mantissa = BigInt(`${whole}${fraction}` || '0');
  let scale = -fraction.length + (decimal !== undefined ? DECIMAL[decimal]! : Number(exponent ?? 0));
  if (binary) mantissa *= 1024n ** BigInt(BINARY.indexOf(binary));
  if (mantissa === 0n) return '0';
  // Nothing finer than a nano unit: rounded up, as resource.Quantity does.
  if (scale < -9) {
    const divisor = 10n ** BigInt(-9 - scale);
    mantissa = (mantissa + divisor - 1n) / divisor;
    scale = -9;
  }
  if (binary) {
    const bytes = scale >= 0 ? mantissa * 10n ** BigInt(scale) : undefined;
    const exact =
      bytes ?? (mantissa % 10n ** BigInt(-scale) === 0n ? mantissa / 10n ** BigInt(-scale) : undefined);
    // Under 1024, or not a whole number of bytes, it is written as a decimal quantity.
    if (exact !== undefined && exact >= 1024n) return base1024(exact) ?? text;
  }
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale++;
  }
  // A multiple of 3 at or below it (Go's %: the sign of the dividend, as JavaScript's).
  const shift = ((scale % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(shift);
  scale -= shift;
  if (exponent !== undefined) return scale === 0 ? `${mantissa}` : `${mantissa}e${scale}`;
  const suffix = Object.entries(DECIMAL).find(([, power]) => power === scale)?.[0];
  return suffix === undefined ? text : `${mantissa}${suffix}`;
}

/** A whole number of bytes with the largest binary suffix that leaves it whole. */
function base1024(bytes: bigint): string | undefined {
  let n = 0;
  while (bytes % 1024n === 0n && n < BINARY.length) {
    bytes /= 1024n;
    n++;
  }
  return n < BINARY.length ? `${bytes}${BINARY[n]}` : undefined;
}

/** Each quantity of a map (a container's requests or limits) canonical. */
export function canonicalQuantities<T extends Record<string, string | number>>(
  quantities: T | undefined,
): Record<string, string> | undefined {
  if (!quantities) return undefined;
  return Object.fromEntries(Object.entries(quantities).map(([name, q]) => [name, canonicalQuantity(q)]));
}
