// The two builds of a rolling upgrade's test (ADR 0423): what each runs, and each replica's public URL
// once it serves, the old ones checked to be the baseline.
import { expect } from 'chai';
import { BASELINE_COMMIT, baselineEntry } from './baseline-build.js';
import { SOURCE_ENTRY } from './part-process.js';
import { waitReady } from './portal-process.js';

/** The previous landed build (BASELINE_COMMIT) and this tree. */
export type Build = 'old' | 'new';

/** The entry each build's processes run: the kept baseline build's (built now if none is kept), and this source. */
export function buildEntries(): Record<Build, string[]> {
  return { old: [baselineEntry()], new: SOURCE_ENTRY };
}

/**
 * The public URL of `part`'s replica of `build` once it listens (`listening`: its `server.listening` URLs)
 * and its /readyz answers; an old one is checked to run BASELINE_COMMIT (its build info), not this tree by
 * a wrong path.
 */
export async function readyReplica(
  listening: Promise<Record<string, string>>,
  part: string,
  build: Build,
): Promise<string> {
  const urls = await listening;
  await waitReady(`${urls['management']}/readyz`);
  if (build === 'old') {
    const metrics = await (await fetch(`${urls['management']}/metrics`)).text();
    expect(metrics).to.include(`revision="${BASELINE_COMMIT}"`);
  }
  return urls[part]!;
}
