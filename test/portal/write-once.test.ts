// A write Atlassian answered 2xx with what cannot be read was made (ADR 0279): write-once looks for
// it and never sends it again, even where its look does not lag (a comment's).
import { expect } from 'chai';
import { AtlassianError } from '../../portal/atlassian/errors.js';
import { writeOnce } from '../../portal/write-once.js';

describe('portal: a write answered 2xx unreadably', () => {
  const unreadable = () =>
    new AtlassianError('ATLASSIAN_ERROR', 201, {
      message: 'Atlassian answered 201 with JSON of another shape',
    });

  /** writeOnce with a write answered so and `found` as what each look finds; counts the calls. */
  async function written(found: (look: number) => string | undefined) {
    const calls = { writes: 0, looks: 0 };
    const outcome = await writeOnce<string>({
      find: async () => found(calls.looks++),
      write: async () => {
        calls.writes++;
        throw unreadable();
      },
      budgetMs: 60_000,
      reconcileDelaysMs: [500, 2000, 5000],
      sleep: async () => {},
    }).catch((err: unknown) => err);
    return { outcome, calls };
  }

  it('is looked for once and never written again when the look does not find it', async () => {
    const { outcome, calls } = await written(() => undefined);
    expect(outcome).to.be.instanceOf(AtlassianError).and.include({ upstreamStatus: 201 });
    expect(calls).to.deep.equal({ writes: 1, looks: 2 });
  });

  it('is what the look finds when it does', async () => {
    const { outcome, calls } = await written((look) => (look === 0 ? undefined : 'the comment'));
    expect(outcome).to.deep.equal({ value: 'the comment', existed: false });
    expect(calls).to.deep.equal({ writes: 1, looks: 2 });
  });
});
