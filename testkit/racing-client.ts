import { KubeClient, type RequestArgs } from '../common/kube/client.js';

/** What the API server answered a held write: what it stored, or its refusal. */
export type Answer = { stored: unknown } | { refused: unknown };

interface Hold {
  method: string;
  path: string;
  before: () => Promise<void>;
  after: (answer: Answer) => Promise<void>;
  answered: (answer: Answer) => void;
  /** `before` or `after` failed: the test fails with it. */
  failed: (error: unknown) => void;
}

/**
 * The operator's client, holding one of its writes at a hook: when the next write with this method
 * and path is about to be sent, `before` runs first (another team, through its own client, replaces
 * or edits the object the operator read), then the write goes out as the operator decided it on
 * its read, and `after` runs with the answer before the operator sees it (so a test reads what the
 * write did before any later reconcile can change it). The race between a controller's read and
 * its write, which no timing makes happen on demand.
 */
export class RacingClient extends KubeClient {
  private held: Hold | undefined;
  /** Path -> every answer to the operator's GETs of it (what it read of another team's object). */
  private readonly reads = new Map<string, unknown[]>();

  /** The answers to the operator's GETs of `path`, in order. */
  readsOf(path: string): unknown[] {
    return this.reads.get(path) ?? [];
  }

  /** Holds the next `method` write to `path` (no query string); resolves with its answer. */
  hold(
    method: string,
    path: string,
    before: () => Promise<void>,
    after: (answer: Answer) => Promise<void> = async () => {},
  ): Promise<Answer> {
    return new Promise((answered, failed) => {
      this.held = { method, path, before, after, answered, failed };
    });
  }

  override async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    const held = this.held;
    if (method === 'GET') return this.recordRead(path, await super.request<T>(method, path, args));
    if (!held || held.method !== method || held.path !== path) return super.request<T>(method, path, args);
    this.held = undefined;
    await held.before().catch((error) => held.failed(error));
    let answer: Answer;
    try {
      answer = { stored: await super.request<T>(method, path, args) };
    } catch (error) {
      answer = { refused: error };
    }
    await held.after(answer).catch((error) => held.failed(error));
    held.answered(answer);
    if ('refused' in answer) throw answer.refused;
    return answer.stored as T;
  }

  private recordRead<T>(path: string, answer: T): T {
    this.reads.set(path, [...this.readsOf(path), answer]);
    return answer;
  }
}
