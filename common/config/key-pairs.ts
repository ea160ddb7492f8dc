/**
 * Two keys of a Secret that are both there or neither: a rollover's next pair (`next.crt`,
 * `next.key`). One alone is refused, by the broker at start and by the operator in ConfigValid, in
 * these words (ADR 0346): an admin who added one half believes the next key is published, and it is not.
 */
export function halfPairProblem(secret: string, present: string, absent: string): string {
  return `${secret} has ${present} without ${absent}: a next pair is both keys or neither (add ${absent}, or remove ${present})`;
}

/**
 * What is wrong with `<pair>.key`/`<pair>.crt` of `secret` as one key pair, or undefined. `key` and
 * `certificate` are their public keys as decryption-key.ts compares them, undefined where not PEM.
 * Said in these words by the parts at start and by the operator in ConfigValid (ADR 0352, 0354).
 */
export function keyPairProblem(
  secret: string,
  pair: 'tls' | 'next',
  key: string | undefined,
  certificate: string | undefined,
): string | undefined {
  const name = `${secret}/${pair}.key`;
  if (key === undefined) return `${name} is not a PEM private key`;
  if (certificate === undefined) return `${name} has no certificate: ${secret}/${pair}.crt is not PEM`;
  if (certificate !== key) return `${name} is not the key of ${secret}/${pair}.crt`;
  return undefined;
}
