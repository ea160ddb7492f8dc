import type { Registry } from 'prom-client';
import { checkLogLine } from './recent-logs.js';

/**
 * Checks a part's metrics as Prometheus scrapes them (its /metrics text) for what no log line may
 * hold (ADR 0340): a label value taken from a request, an IdP's or Atlassian's answer is read by
 * whoever reads the monitoring, as a log line is. Each line of the exposition is one check, so a
 * finding names its series. Called as a harness closes, when its flows have counted everything.
 */
export async function checkMetricsOf(registry: Registry, part: string): Promise<void> {
  checkExposition(await registry.metrics(), part);
}

/**
 * The same check of a part started as its own process, read as Prometheus reads it:
 * `managementUrl`'s /metrics. Returns the exposition, for a test that also looks for a value
 * (an address) that is no finding in a log line.
 */
export async function checkMetricsAt(managementUrl: string, part: string): Promise<string> {
  const answer = await fetch(new URL('/metrics', managementUrl));
  if (!answer.ok) throw new Error(`${part}'s /metrics answered ${answer.status}`);
  const text = await answer.text();
  checkExposition(text, part);
  return text;
}

function checkExposition(text: string, part: string): void {
  for (const line of text.split('\n')) checkLogLine(line, `the ${part}'s /metrics`);
}
