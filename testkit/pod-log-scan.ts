import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { checkLogLine } from './recent-logs.js';

/**
 * Follows every container log the kubelet writes under `root` (its podLogsDir:
 * `<namespace>_<pod>_<uid>/<container>/<restart>.log`) and checks each line for personal data and
 * secrets (ADR 0278): the product's pods in test/cluster run its own image under runc, so their
 * container logs are its logs. Read every `intervalMs` while the cluster runs, since the kubelet
 * removes a deleted pod's logs with it (a rolled-out broker, a deleted portal pod), and once more
 * by the returned function, before the cluster stops.
 */
export function scanPodLogs(root: string, intervalMs = 500): () => void {
  const followed = new Map<string, Followed>();
  const read = () => {
    for (const file of containerLogs(root)) {
      const log = followed.get(file) ?? new Followed(file);
      followed.set(file, log);
      log.readOn();
    }
  };
  const timer = setInterval(read, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    read();
    for (const log of followed.values()) log.end();
  };
}

/** The container log files under `root` now (one rotated aside holds what was read before). */
function containerLogs(root: string): string[] {
  if (!existsSync(root)) return [];
  const files: string[] = [];
  // A pod's folder can go between one readdir and the next: whatever is gone is skipped.
  const entries = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const pod of entries(root))
    for (const container of entries(join(root, pod)))
      for (const file of entries(join(root, pod, container)))
        if (file.endsWith('.log')) files.push(join(root, pod, container, file));
  return files;
}

/**
 * One container log, read from where the last read ended. The CRI log format writes each line as
 * `<time> <stream> <tag> <text>`; tag P is part of a line longer than the runtime's buffer, joined
 * with what follows up to the F that ends it, so a datum cut between two parts is still found.
 */
class Followed {
  private offset = 0;
  private buffered = '';
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly where: string;

  constructor(private readonly file: string) {
    this.where = `the container log ${file}`;
  }

  readOn(): void {
    let fd: number;
    try {
      const { size } = statSync(this.file);
      // Shorter than what was read: the kubelet rotated it (renamed it aside, a new one in its place).
      if (size < this.offset) this.offset = 0;
      if (size === this.offset) return;
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const chunk = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        this.buffered += this.decoder.write(chunk.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop() ?? '';
    for (const line of lines) this.take(line);
  }

  /** Checks what is left: a last line without its newline, a part without its F. */
  end(): void {
    if (this.buffered) this.take(this.buffered);
    this.buffered = '';
    if (this.partial) checkLogLine(this.partial, this.where);
    this.partial = '';
  }

  private take(line: string): void {
    const entry = /^\S+ (?:stdout|stderr) ([PF]) (.*)$/.exec(line);
    if (!entry) {
      checkLogLine(line, this.where);
      return;
    }
    this.partial += entry[2];
    if (entry[1] === 'P') return;
    checkLogLine(this.partial, this.where);
    this.partial = '';
  }
}
