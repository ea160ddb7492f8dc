// A 503 with Retry-After may come from a proxy in front of Atlassian after the work was committed
// (ADR 0408): write-once looks for the write after the wait, past a lagging search too, and sends it
// again at most once, only when both looks answered and saw nothing.
import { expect } from 'chai';
import { AtlassianError } from '../../portal/atlassian/errors.js';
import { writeOnce } from '../../portal/write-once.js';

describe('portal: a write answered 503 with Retry-After', () => {
  const limited = () => new AtlassianError('ATLASSIAN_UNAVAILABLE', 503, { retryAfterMs: 1000 });

  /**
   * writeOnce of a write answered 503 with Retry-After every time, `find` (given how many looks came
   * before) and `confirm` as given (a look that throws fails); counts the calls and the waits.
   */
  async function answered503(looks: {
    find: (before: number) => string | undefined;
    confirm: () => string | undefined;
  }) {
    const calls = { writes: 0, finds: 0, confirms: 0, waits: [] as number[] };
    const outcome = await writeOnce<string>({
      find: async () => looks.find(calls.finds++),
      confirm: async () => {
        calls.confirms++;
        return looks.confirm();
      },
      write: async () => {
        calls.writes++;
        throw limited();
      },
      budgetMs: 60_000,
      reconcileDelaysMs: [500, 2000, 5000],
      sleep: async (ms) => {
        calls.waits.push(ms);
      },
    }).catch((err: unknown) => err);
    return { outcome, calls };
  }

  it('is sent again once when both looks after the Retry-After see nothing, then given up with', async () => {
    const { outcome, calls } = await answered503({ find: () => undefined, confirm: () => undefined });
    expect(outcome).to.be.instanceOf(AtlassianError).and.include({ upstreamStatus: 503 });
    // The look before the first write, then one of each after each write's Retry-After.
    expect(calls).to.deep.equal({ writes: 2, finds: 3, confirms: 2, waits: [1000, 1000] });
  });

  it('is what the look past the search finds, the search not showing it yet: not sent again', async () => {
    const { outcome, calls } = await answered503({ find: () => undefined, confirm: () => 'IT-7' });
    expect(outcome).to.deep.equal({ value: 'IT-7', existed: false });
    expect(calls).to.deep.include({ writes: 1, confirms: 1 });
  });

  for (const failing of ['find', 'confirm'] as const)
    it(`is not sent again when its ${failing} fails after the Retry-After: the 503 is answered`, async () => {
      const fails = () => {
        throw new AtlassianError('ATLASSIAN_RATE_LIMITED', 429, { retryAfterMs: 1000 });
      };
      const { outcome, calls } = await answered503({
        // The look before the write answers: nothing written yet.
        find: (before) => (failing === 'find' && before > 0 ? fails() : undefined),
        confirm: failing === 'confirm' ? fails : () => undefined,
      });
      expect(outcome).to.be.instanceOf(AtlassianError).and.include({ upstreamStatus: 503 });
      expect(calls.writes).to.equal(1);
    });
});
