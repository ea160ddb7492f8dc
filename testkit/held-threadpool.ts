/**
 * Every thread of libuv's pool held: the threads Node's asynchronous file calls (`fs.promises`, file
 * streams) run on. A machine so loaded that file work queues, made exact instead of timed: what a
 * process asks of its files after `holdThreadpool` waits until `release`, in the order it was asked.
 *
 * Each thread blocks in open(2) of a FIFO for reading, which returns once a writer opens it (fifo(7));
 * `release` opens it for writing. Calls made before the hold are not delayed by it, and synchronous
 * file calls (`mkdirSync`, `existsSync`) never wait: a test reads the disk with those meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** libuv's pool: UV_THREADPOOL_SIZE threads, 4 unless the process was started with it set. */
const POOL_THREADS = Number(process.env['UV_THREADPOOL_SIZE']) || 4;

export interface HeldThreadpool {
  /** Lets the pool's threads go; resolves once each held one is free again. */
  release(): Promise<void>;
}

export function holdThreadpool(): HeldThreadpool {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-held-threadpool-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // Asked now, so they come before anything asked after this returns.
  const readers = Array.from({ length: POOL_THREADS }, () => open(fifo, 'r'));
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= (async () => {
        // Non-blocking: the readers waiting in open(2) count as the FIFO's readers, so this succeeds.
        const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        try {
          for (const handle of await Promise.all(readers)) await handle.close();
        } finally {
          closeSync(writer);
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return released;
    },
  };
}
