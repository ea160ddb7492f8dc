// Every answer a closed connection owed emits 'close' exactly once (ADR 0394, ADR 0405): what counts on
// it (a pool tenant's places under way, ADR 0223; the drain's pending answers; an idle connection's
// answers being sent) counts each answer once, whether Node closed it or the server did.
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { setImmediate as immediate } from 'node:timers/promises';
import { expect } from 'chai';
import type { RunningServer } from '../../common/http/server.js';
import { eventually } from '../../testkit/envtest.js';
import { startLoopbackServer } from '../../testkit/loopback-server.js';

describe("the public server: the 'close' of each answer a closed connection owed (ADR 0405)", () => {
  let server: RunningServer | undefined;
  /** Per answer asked for, in order: its path, how many 'close' it emitted, and the answer. */
  let answers: Array<{ path: string; closes: number; res: ServerResponse }>;

  beforeEach(async () => {
    answers = [];
    server = await startLoopbackServer((req, res) => {
      const answer = { path: req.url ?? '', closes: 0, res };
      answers.push(answer);
      res.on('close', () => answer.closes++);
      if (req.url === '/now') res.end('now');
    });
  });
  afterEach(async () => {
    await server?.close(100);
  });

  /** Pipelines GETs of `paths` on one connection, waits for every handler and `answered`, then hangs up. */
  async function pipelineAndHangUp(paths: string[], answered: string): Promise<void> {
    const socket = connect(server!.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.write(paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`).join(''));
    await eventually(
      async () => answers.length === paths.length && received.includes(answered),
      'every request handled',
    );
    socket.destroy();
    await eventually(async () => answers.every((a) => a.closes > 0), "every answer's close");
  }

  /** The handlers end their answers late, as a page waiting on Atlassian does; no second 'close' follows. */
  async function closesAfterLateEnds(): Promise<Record<string, number>> {
    for (const { res } of answers) if (!res.writableEnded) res.end('late');
    // Node closes an ended answer on the next tick at the latest: an immediate is past it.
    await immediate();
    await immediate();
    return Object.fromEntries(answers.map((a, i) => [`${i} ${a.path}`, a.closes]));
  }

  it('closes the answer being sent and those pipelined behind it once each', async () => {
    await pipelineAndHangUp(['/held', '/held', '/held'], '');
    expect(await closesAfterLateEnds()).to.deep.equal({ '0 /held': 1, '1 /held': 1, '2 /held': 1 });
  });

  it('closes once each an answer sent, the one that took its place and the one still behind', async () => {
    // The second answer got the connection when the first was sent: Node's listener for it on the
    // connection's close came after the server's own.
    await pipelineAndHangUp(['/now', '/held', '/held'], 'now');
    expect(await closesAfterLateEnds()).to.deep.equal({ '0 /now': 1, '1 /held': 1, '2 /held': 1 });
  });
});
