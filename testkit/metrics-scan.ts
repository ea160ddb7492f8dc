import type { Registry } from 'prom-client';
import { checkLogLine } from './recent-logs.js';

/**
 * Checks a part's metrics as Prometheus scrapes them (its /metrics text) for what no log line may
 * hold (ADR 0340): a label value taken from a request, an IdP's or Atlassian's answer is read by
 * whoever reads the monitoring, as a log line is. Each line of the exposition is one check, so a
 * finding names its series. Called as a harness closes, when its flows have counted everything.
 */
export async function checkMetricsOf(registry: Registry, part: string): Promise<void> {
  for (const line of (await registry.metrics()).split('\n')) checkLogLine(line, `the ${part}'s /metrics`);
}
