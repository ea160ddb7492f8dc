/**
 * Where uploaded files wait between the browser and Atlassian: a private temporary folder, never
 * memory. Each upload takes a slot (its own subfolder) for as long as its files exist; there are at
 * most `maxConcurrent` slots, so the folder holds at most that many requests' worth of files
 * (each bounded by the multipart limits) and memory holds only stream buffers.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

  static async create(maxConcurrent: number): Promise<UploadSpool> {
    return new UploadSpool(await mkdtemp(join(tmpdir(), 'jsm-sso-portal-uploads-')), maxConcurrent);
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
  }
}
