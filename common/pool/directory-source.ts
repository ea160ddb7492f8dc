import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadTenantFile } from '../config/load.js';
import { SecretDirectory } from '../config/secrets.js';
import { JsmSsoError } from '../errors.js';
import type { Logger } from '../log.js';
import { FolderWatches, type WatchFolder } from './folder-watches.js';
import type { TenantSource, TenantSourceListener } from './source.js';

/**
 * How often every bundle is looked at again in case a file-system event was missed (NFS, a change
 * made through a hard link or another mount). Changes normally arrive through the watches within
 * milliseconds; a rescan of 10,000 bundles costs about half a second of CPU (stat calls), so it
 * runs rarely.
 */
const DEFAULT_POLL_MS = 10_000;
/** Events come in bursts (an editor's save, a copied folder): the bundles they name are read after the burst settles... */
const SETTLE_MS = 50;
/** ...or at the latest this long after the first event, so a steady stream of changes cannot hold them back. */
const MOST_SETTLE_MS = 500;
/**
 * The periodic rescan looks at this many bundles, then lets the event loop serve requests and events
 * before the next ones: an unchanged rescan of 10,000 bundles costs about 0.6 s of CPU, which in one
 * piece would stall every tenant of the pool (for seconds on a loaded node).
 */
const RESCAN_CHUNK = 250;
/** The watch group of the pool folder itself, whose events name bundles (a bundle name never is empty). */
const ROOT = '';

export interface DirectoryTenantSourceOptions {
  pollMs?: number;
  /** Where a watch that cannot be opened (the inotify limit) is reported; the rescan still delivers. */
  logger?: Logger;
  /** node:fs `watch`; a test hands one that fails as the inotify limit does (a kernel-wide setting otherwise). */
  watch?: WatchFolder;
}

/**
 * Tenants from a folder: `DIR/<bundle>/tenant.yaml` and `DIR/<bundle>/secrets/<secretName>/<key>`,
 * the layout of a dedicated part's `--config` and `--secrets-dir` side by side. The bundle's folder
 * name is its key. Each tenant is validated by the loader `--config` uses; a bundle whose files
 * change is delivered again (its secrets are read afresh when its part is rebuilt).
 *
 * A change costs the bundles it touches, not the pool's size: the pool folder, each bundle's folder,
 * its `secrets/` and each `secrets/<secretName>/` are watched (folder-watches.ts), every event names
 * its bundle, and only the bundles named during the settle window are looked at. Every `pollMs`
 * (10 s) all bundles are looked at again, the safety net for an event that never came.
 */
export class DirectoryTenantSource implements TenantSource {
  readonly #root: string;
  readonly #pollMs: number;
  readonly #logger: Logger | undefined;
  /** What each delivered (or refused) bundle's files looked like, to deliver only changes. */
  readonly #fingerprints = new Map<string, string>();
  readonly #watches: FolderWatches;
  /** Bundles named by events since the last delivery. */
  readonly #pending = new Set<string>();
  /** An event named no entry: every bundle is looked at. */
  #pendingAll = false;
  #firstPendingAt: number | undefined;
  #watchFailureLogged = false;
  #rescanning = false;
  #listener: TenantSourceListener | undefined;
  #poll: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;

  constructor(root: string, options: DirectoryTenantSourceOptions = {}) {
    this.#root = root;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#logger = options.logger;
    this.#watches = new FolderWatches(
      (group, entry) => this.#changed(group === ROOT ? entry : group),
      (folder, error) => this.#watchFailed(folder, error),
      options.watch,
    );
  }

  async start(listener: TenantSourceListener): Promise<void> {
    this.#listener = listener;
    this.#assertReadable();
    // Watched before the first scan, so a bundle added meanwhile is not missed.
    this.#watches.set(ROOT, [this.#root]);
    this.scan();
    this.#poll = setInterval(() => void this.#rescan(), this.#pollMs);
    this.#poll.unref();
  }

  async close(): Promise<void> {
    this.#watches.close();
    clearInterval(this.#poll);
    clearTimeout(this.#settle);
    this.#listener = undefined;
  }

  /** Delivers every bundle added, changed or removed since the last scan, at once (start, tests). */
  scan(): void {
    for (const name of this.#startScan() ?? []) this.#update(name, false);
  }

  /** The periodic scan: the same, a chunk of bundles at a time; one at a time. */
  async #rescan(): Promise<void> {
    if (this.#rescanning) return;
    this.#rescanning = true;
    try {
      const folders = this.#startScan() ?? [];
      for (let i = 0; i < folders.length; i++) {
        if (i > 0 && i % RESCAN_CHUNK === 0) {
          await nextTurn();
          if (!this.#listener) return;
        }
        // Looked at again even if an event delivered it meanwhile: unchanged, it costs its stat calls.
        this.#update(folders[i]!, false);
      }
    } finally {
      this.#rescanning = false;
    }
  }

  /** Removes the bundles whose folders are gone and returns the folders to look at (none: closed or unreadable). */
  #startScan(): string[] | undefined {
    if (!this.#listener) return undefined;
    // The pool folder itself may have been replaced (a new inode): watched again.
    this.#watches.set(ROOT, [this.#root]);
    const folders = this.#bundleFolders();
    if (!folders) return undefined;
    const present = new Set(folders);
    for (const key of [...this.#fingerprints.keys()]) if (!present.has(key)) this.#refresh(key);
    return folders;
  }

  /** An event in the pool folder (the bundle `name`, or null: unknown) or in bundle `name`'s folders. */
  #changed(name: string | null): void {
    if (name === null) this.#pendingAll = true;
    else this.#pending.add(name);
    const now = Date.now();
    this.#firstPendingAt ??= now;
    clearTimeout(this.#settle);
    const wait = Math.max(0, Math.min(SETTLE_MS, this.#firstPendingAt + MOST_SETTLE_MS - now));
    this.#settle = setTimeout(() => this.#deliverPending(), wait);
    this.#settle.unref();
  }

  #deliverPending(): void {
    const names = [...this.#pending];
    const all = this.#pendingAll;
    this.#pending.clear();
    this.#pendingAll = false;
    this.#firstPendingAt = undefined;
    if (!this.#listener) return;
    if (all) this.scan();
    else for (const name of names) this.#refresh(name);
  }

  /** Bundle `name` as an event found it: a folder (watched and delivered), or gone. */
  #refresh(name: string): void {
    if (!name.startsWith('.') && !name.includes('/') && isFolder(join(this.#root, name))) {
      this.#update(name, true);
      return;
    }
    this.#watches.delete(name);
    this.#forget(name);
  }

  /**
   * Delivers bundle folder `name` if its files changed; a folder without a tenant.yaml (being copied
   * in) is watched, so its tenant.yaml arriving is seen, and counts once that is there.
   */
  #update(name: string, fromEvent: boolean): void {
    const folder = join(this.#root, name);
    const fingerprint = fingerprintOf(folder);
    const known = this.#fingerprints.get(name);
    // An unchanged bundle's folders are the same ones, so a rescan stats nothing more for it.
    if (fromEvent || fingerprint !== known || !this.#watches.has(name))
      this.#watches.set(name, watchedFolders(folder));
    if (fingerprint === undefined) {
      this.#forget(name);
      return;
    }
    if (known === fingerprint) return;
    this.#fingerprints.set(name, fingerprint);
    const listener = this.#listener!;
    try {
      const tenant = loadTenantFile(join(folder, 'tenant.yaml'));
      // Which incarnation of the tenant this is, where its document says (ADR 0379).
      const uid = tenant.metadata?.uid;
      listener.upsert({
        key: name,
        tenant,
        secrets: new SecretDirectory(join(folder, 'secrets')),
        ...(uid ? { uid } : {}),
      });
    } catch (err) {
      if (!(err instanceof JsmSsoError)) throw err;
      listener.invalid(name, err);
    }
  }

  #forget(name: string): void {
    if (this.#fingerprints.delete(name)) this.#listener?.remove(name);
  }

  /** The inotify limit reached: one warning per source (the rescan still delivers what it cannot watch). */
  #watchFailed(folder: string, error: NodeJS.ErrnoException): void {
    if (this.#watchFailureLogged) return;
    this.#watchFailureLogged = true;
    this.#logger?.warn(
      {
        event: 'pool.tenant_watch_failed',
        reason: 'POOL_TENANT_WATCH_FAILED',
        folder,
        // The errno (ENOSPC: the inotify limit); a field named `code` would be redacted (common/log.ts).
        cause: error.code,
        rescanEveryMs: this.#pollMs,
      },
      'a pool folder cannot be watched; its changes are seen by the periodic rescan',
    );
  }

  #assertReadable(): void {
    try {
      readdirSync(this.#root);
    } catch (err) {
      throw new JsmSsoError(
        'CONFIG_FILE_UNREADABLE',
        `cannot read the pool folder ${this.#root} (${(err as NodeJS.ErrnoException).code})`,
        { cause: err },
      );
    }
  }

  /** The pool folder's bundle folders (not hidden), or undefined when it cannot be read now. */
  #bundleFolders(): string[] | undefined {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.#root, { withFileTypes: true });
    } catch {
      return undefined;
    }
    return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((e) => e.name);
  }
}

/** A folder itself, not a link to one (as the rescan's directory entries count them). */
function isFolder(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The name, size, inode and change time of the tenant document and of every secret file, or
 * undefined without a tenant document: looking at 10,000 idle bundles costs stat calls, never
 * reading or hashing a file.
 */
function fingerprintOf(folder: string): string | undefined {
  const document = join(folder, 'tenant.yaml');
  if (!statOf(document)) return undefined;
  return [document, ...secretFiles(join(folder, 'secrets'))]
    .map((file) => {
      const stat = statOf(file);
      return `${file}\0${stat?.size}\0${stat?.ino}\0${stat?.mtimeMs}`;
    })
    .join('\0');
}

/** A bundle folder, its `secrets/` and each `secrets/<secretName>/`: where its files change. */
function watchedFolders(folder: string): string[] {
  const secrets = join(folder, 'secrets');
  return [folder, secrets, ...secretFolders(secrets)];
}

function secretFolders(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => !name.startsWith('.'))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** `secrets/<secretName>/<key>` files; a Kubernetes-style mount's `..data` links are followed by stat. */
function secretFiles(dir: string): string[] {
  return secretFolders(dir).flatMap((folder) => {
    try {
      return readdirSync(folder)
        .filter((key) => !key.startsWith('..'))
        .map((key) => join(folder, key));
    } catch {
      return [];
    }
  });
}
