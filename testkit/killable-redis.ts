// A Redis of a test's own that a chaos test kills (SIGKILL: all it held is lost, connections are reset
// and the port refuses) and starts again, empty, on the same port, or pauses (SIGSTOP) and resumes:
// its clients keep the one URL they were given, as behind a Service whose pod was replaced.
import { type LocalRedis, startLocalRedis } from './local-redis.js';

export interface KillableRedis {
  readonly url: string;
  /** SIGKILL, awaited: until `restart`, a connection to its port is refused. */
  kill(): Promise<void>;
  /** A new, empty redis-server on the same port, once it answers. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT (harmless when not paused). */
  resume(): void;
  /** The running server stopped, as `LocalRedis.stop` (its data read for personal data first). */
  stop(): Promise<void>;
}

export async function startKillableRedis(): Promise<KillableRedis> {
  let current: LocalRedis | undefined = await startLocalRedis();
  const { url, port } = current;
  const running = (): LocalRedis => {
    if (!current) throw new Error('the Redis was killed and not started again');
    return current;
  };
  return {
    url,
    async kill() {
      const killed = running();
      current = undefined;
      const gone = new Promise((resolve) => killed.process.once('exit', resolve));
      killed.process.kill('SIGKILL');
      // Once it has exited by the signal, `stop` does not read it for data at rest (a client of a
      // dying server): it only removes its files.
      await gone;
      await killed.stop();
    },
    async restart() {
      if (current) throw new Error('the Redis is running: kill it first');
      current = await startLocalRedis([], port);
    },
    pause: () => running().process.kill('SIGSTOP'),
    resume: () => current?.process.kill('SIGCONT'),
    stop: async () => {
      current?.process.kill('SIGCONT');
      await current?.stop();
      current = undefined;
    },
  };
}
