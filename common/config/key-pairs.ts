/**
 * Two keys of a Secret that are both there or neither: a rollover's next pair (`next.crt`,
 * `next.key`). One alone is refused, by the broker at start and by the operator in ConfigValid, in
 * these words (ADR 0346): an admin who added one half believes the next key is published, and it is not.
 */
export function halfPairProblem(secret: string, present: string, absent: string): string {
  return `${secret} has ${present} without ${absent}: a next pair is both keys or neither (add ${absent}, or remove ${present})`;
}
