// An Atlassian outage as the portal's fault tests make it with the emulator, and what they compare of the
// pages answered during it.
import type { Harness } from './portal-harness.js';

/** From now on every read fails: each GET, and the searches (POSTs) that decide visibility. */
export async function failEveryRead(h: Pick<Harness, 'emulator'>): Promise<void> {
  h.emulator.faults.add({ method: 'GET', status: 503 });
  h.emulator.faults.add({ pathPrefix: '/rest/api/3/search', method: 'POST', status: 503 });
}

/**
 * After each test of the enclosing block: the emulator's faults cleared, and the outage's answers (5xx, none)
 * dropped from the harness's check of the portal's exchanges against the specs: they are the emulator's
 * faults, not Atlassian's documented answers.
 */
export function clearOutageAfterEach(harness: () => Harness): void {
  let from = 0;
  beforeEach(() => {
    from = harness().exchanges.length;
  });
  afterEach(() => {
    const h = harness();
    h.emulator.faults.clear();
    for (let i = h.exchanges.length - 1; i >= from; i--)
      if (h.exchanges[i]!.status >= 500 || h.exchanges[i]!.status === 0) h.exchanges.splice(i, 1);
  });
}

/** A page answered for request `key`, less what differs between any two: the key, the CSP nonce, the reference. */
export async function pageButKey(res: Response, key: string): Promise<{ status: number; page: string }> {
  const page = (await res.text())
    .replaceAll(key, 'KEY')
    .replace(/nonce="[^"]*"/g, 'nonce=""')
    .replace(/data-reference>[^<]*</g, 'data-reference><');
  return { status: res.status, page };
}
