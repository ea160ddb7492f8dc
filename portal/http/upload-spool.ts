/**
 * Where uploaded files wait between the browser and Atlassian: a private temporary folder, never
 * memory. Each upload takes a slot (its own subfolder) for as long as its request is read or sent on;
 * there are at most `maxConcurrent` slots. A slot given back leaves its folder being removed, which
 * may take a while on a loaded machine (the removal waits for a file thread): those folders are
 * bounded apart, as many as the slots (ADR 0250). So the folder holds at most twice `maxConcurrent`
 * requests' worth of files (each bounded by the multipart limits; `common/upload-spool-size.ts` sizes
 * the disk for it) and memory holds only stream buffers.
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
import { SPOOL_FOLDERS_PER_SLOT } from '../../common/upload-spool-size.js';

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
  /**
   * Frees the slot at once and deletes its files, resolving when they are gone; safe to call twice.
   * The folder counts against the folders being removed until then.
   */
  release(): Promise<void>;
}

/**
 * Why no slot: every slot is taken by a form being read or sent on, or the folders of forms that
 * ended are still being removed, as many as the slots (the disk's bound, ADR 0250).
 */
export type SpoolBusy = 'PORTAL_UPLOADS_BUSY' | 'PORTAL_UPLOAD_REMOVALS_BEHIND';

export class UploadSpool {
  readonly #root: string;
  readonly #maxConcurrent: number;
  /** Slots held by forms being read or sent on. */
  #active = 0;
  #peakActive = 0;
  /** Folders of slots given back whose removal has not finished. */
  #removing = 0;
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

  /**
   * Uploads being read or sent on now, the most there were at once, and the folders of ended ones
   * still being removed.
   */
  get stats(): { active: number; peakActive: number; removing: number } {
    return { active: this.#active, peakActive: this.#peakActive, removing: this.#removing };
  }

  /**
   * A slot, or why there is none: `maxConcurrent` uploads in flight already, or as many folders of
   * ended ones still being removed (with the slots', that many folders more would pass the disk's
   * bound).
   */
  tryAcquire(): SpoolSlot | { refused: SpoolBusy } {
    if (this.#active >= this.#maxConcurrent) return { refused: 'PORTAL_UPLOADS_BUSY' };
    if (this.#active + this.#removing >= this.#maxConcurrent * SPOOL_FOLDERS_PER_SLOT)
      return { refused: 'PORTAL_UPLOAD_REMOVALS_BEHIND' };
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
        // The request is done with its slot now: its next form must not wait for a file thread.
        this.#active--;
        this.#removing++;
        try {
          await rm(folder, { recursive: true, force: true });
        } finally {
          this.#removing--;
        }
      },
    };
  }

  async close(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
    ownFolders.delete(this.#root);
  }
}
