import { eventually } from './envtest.js';

/** The reason a readiness monitor gives while it reads not-ready; undefined while ready. */
export function notReadyReason(health: { assertReady(): void }): string | undefined {
  try {
    health.assertReady();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Waits until `health` reads not-ready (within `timeoutMs`), and answers the `cause` its first
 * `process.readiness` not-ready line in `logs` gave.
 */
export async function untilNotReady(
  health: { assertReady(): void },
  logs: Array<Record<string, unknown>>,
  timeoutMs?: number,
): Promise<unknown> {
  await eventually(async () => notReadyReason(health), 'readiness to read not-ready', timeoutMs);
  return logs.find((l) => l['event'] === 'process.readiness' && l['ready'] === false)?.['cause'];
}

/** Waits until `health` reads ready. */
export async function untilReady(health: { assertReady(): void }): Promise<void> {
  await eventually(async () => notReadyReason(health) === undefined, 'readiness to read ready');
}
