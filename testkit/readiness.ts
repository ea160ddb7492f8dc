/** The reason a readiness monitor gives while it reads not-ready; undefined while ready. */
export function notReadyReason(health: { assertReady(): void }): string | undefined {
  try {
    health.assertReady();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
