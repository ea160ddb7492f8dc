import { type FSWatcher, statSync, watch } from 'node:fs';

/** How a folder is watched: node:fs `watch` in the product. */
export type WatchFolder = (
  folder: string,
  options: { persistent: boolean },
  listener: (event: string, entry: string | null) => void,
) => FSWatcher;

interface Watched {
  /** The folder's inode when it was watched: a folder replaced under the same name is watched again. */
  ino: number;
  watcher: FSWatcher;
}

/**
 * Folders watched one by one, in named groups (a pool bundle's folders). An inotify watch on a folder
 * reports every entry of it, so a folder needs one watch and its files none. Node's `recursive`
 * fs.watch on Linux instead opens a watch and keeps a Stats object for every file and folder below
 * the root: about 22 KB and 15 watches per tenant bundle, so two pool processes of 10,000 bundles
 * ran past the machine's inotify limit (ENOSPC) and the watch died, leaving only the rescan. Here a
 * folder costs about 1 KB and one watch.
 */
export class FolderWatches {
  readonly #groups = new Map<string, Map<string, Watched>>();
  readonly #onChange: (group: string, entry: string | null) => void;
  readonly #onFailure: (folder: string, error: NodeJS.ErrnoException) => void;
  readonly #watch: WatchFolder;

  /**
   * `onChange` gets the group and the name of the entry that changed in one of its folders (null
   * when the system did not say); `onFailure` a watch that could not be opened (ENOSPC: the
   * inotify limit), for a folder that exists.
   */
  constructor(
    onChange: (group: string, entry: string | null) => void,
    onFailure: (folder: string, error: NodeJS.ErrnoException) => void,
    watchFolder: WatchFolder = watch,
  ) {
    this.#onChange = onChange;
    this.#onFailure = onFailure;
    this.#watch = watchFolder;
  }

  has(group: string): boolean {
    return this.#groups.has(group);
  }

  /** Watches exactly `folders` for `group`: new or replaced ones are watched, the others closed. */
  set(group: string, folders: readonly string[]): void {
    const watched = this.#groups.get(group) ?? new Map<string, Watched>();
    const wanted = new Set(folders);
    for (const [folder, { watcher }] of watched) {
      if (wanted.has(folder)) continue;
      watcher.close();
      watched.delete(folder);
    }
    for (const folder of wanted) {
      const ino = inodeOf(folder);
      const current = watched.get(folder);
      if (current && current.ino === ino) continue;
      current?.watcher.close();
      watched.delete(folder);
      const watcher = ino === undefined ? undefined : this.#open(group, folder);
      if (ino !== undefined && watcher) watched.set(folder, { ino, watcher });
    }
    if (watched.size > 0) this.#groups.set(group, watched);
    else this.#groups.delete(group);
  }

  delete(group: string): void {
    this.set(group, []);
  }

  close(): void {
    for (const group of [...this.#groups.keys()]) this.delete(group);
  }

  #open(group: string, folder: string): FSWatcher | undefined {
    try {
      const watcher = this.#watch(folder, { persistent: false }, (_event, entry) =>
        this.#onChange(group, entry),
      );
      // A watch that fails later is dropped; the group's next set() (or the owner's rescan) opens it again.
      watcher.on('error', () => {
        watcher.close();
        const watched = this.#groups.get(group);
        if (watched?.get(folder)?.watcher === watcher) watched.delete(folder);
      });
      return watcher;
    } catch (err) {
      // Gone between the stat and the watch: its parent's watch reports that.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#onFailure(folder, err as NodeJS.ErrnoException);
      return undefined;
    }
  }
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}
