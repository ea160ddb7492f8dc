/**
 * Where uploaded files wait between the browser and Atlassian: a private temporary folder, never
 * memory. Each upload takes a slot (its own subfolder) for as long as its files exist; there are at
 * most `maxConcurrent` slots, so the folder holds at most that many requests' worth of files
 * (each bounded by the multipart limits) and memory holds only stream buffers.
 *
 * The folder is named after the process (`jsm-sso-portal-uploads-<pid>-…`), so that a process
 * starting removes what a process killed before it left (ADR 0179): /tmp is the pod's emptyDir,
 * which outlives a container killed by SIGKILL or the OOM killer, and is sized for one process's
 * spool only.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FOLDER_PREFIX = 'jsm-sso-portal-uploads-';
const FOLDER_OF_PROCESS = /^jsm-sso-portal-uploads-([0-9]{1,10})-/;

/** The spool folders of this process: a pool process has one per tenant. */
const ownFolders = new Set<string>();
/** The one sweep of folders left by processes that are gone (UploadSpool.create). */
let leftFoldersSweep: Promise<number> | undefined;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it lives, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the spool folders of processes that are gone: a dead pid's, and one named with this
 * process's own pid that it did not make (a container's PID 1 before a restart was PID 1 too).
 * Another live process's folder is left alone. Returns how many were removed.
 */
async function removeLeftFolders(): Promise<number> {
  const root = tmpdir();
  let removed = 0;
  for (const name of await readdir(root)) {
    const pid = Number(FOLDER_OF_PROCESS.exec(name)?.[1] ?? Number.NaN);
    const folder = join(root, name);
    if (Number.isNaN(pid) || ownFolders.has(folder)) continue;
    if (pid !== process.pid && processAlive(pid)) continue;
    await rm(folder, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export interface SpoolSlot {
  /** A fresh path in this slot's folder for the next file. */
  nextPath(): string;
  /** Deletes the slot's files and frees the slot; safe to call twice. */
  release(): Promise<void>;
}

export class UploadSpool {
  readonly #root: string;
  readonly #maxConcurrent: number;
  #active = 0;
  #peakActive = 0;
  #next = 0;

  private constructor(root: string, maxConcurrent: number) {
    this.#root = root;
    this.#maxConcurrent = maxConcurrent;
  }

  /**
   * A spool in a new folder, once the folders of processes that are gone are removed: by the
   * process's first spool, which reports how many (`leftFoldersRemoved`; 0 for the others). Once per
   * process, not per spool: a pool process makes one per tenant, and each sweep reads every other
   * tenant's folder, so 10,000 tenants starting would read /tmp's entries 10,000 times over.
   */
  static async create(maxConcurrent: number): Promise<{ spool: UploadSpool; leftFoldersRemoved: number }> {
    const first = leftFoldersSweep === undefined;
    leftFoldersSweep ??= removeLeftFolders();
    const removed = await leftFoldersSweep;
    const leftFoldersRemoved = first ? removed : 0;
    // Known as this process's before it exists: another tenant's spool starting meanwhile in a
    // pool process would otherwise take it for a dead process's folder with the same pid.
    const root = join(tmpdir(), `${FOLDER_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`);
    ownFolders.add(root);
    await mkdir(root, { mode: 0o700 });
    return { spool: new UploadSpool(root, maxConcurrent), leftFoldersRemoved };
  }

  get folder(): string {
    return this.#root;
  }

  /** Uploads being read or sent on now, and the most there were at once. */
  get stats(): { active: number; peakActive: number } {
    return { active: this.#active, peakActive: this.#peakActive };
  }

  /** A slot, or undefined when `maxConcurrent` uploads are already in flight. */
  tryAcquire(): SpoolSlot | undefined {
    if (this.#active >= this.#maxConcurrent) return undefined;
    this.#active++;
    this.#peakActive = Math.max(this.#peakActive, this.#active);
    const folder = join(this.#root, String(this.#next++));
    mkdirSync(folder, { mode: 0o700 });
    let files = 0;
    let released = false;
    return {
      nextPath: () => join(folder, String(files++)),
      release: async () => {
        if (released) return;
        released = true;
        try {
          await rm(folder, { recursive: true, force: true });
        } finally {
          this.#active--;
        }
      },
    };
  }

  async close(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
    ownFolders.delete(this.#root);
  }
}
