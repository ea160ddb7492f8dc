import { type Dirent, type FSWatcher, readdirSync, type Stats, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { loadTenantFile } from '../config/load.js';
import { SecretDirectory } from '../config/secrets.js';
import { JsmSsoError } from '../errors.js';
import type { TenantSource, TenantSourceListener } from './source.js';

/**
 * How often the folder is scanned again in case a file-system event was missed (NFS, overlays). Changes
 * normally arrive through fs.watch within milliseconds; a rescan of 10,000 bundles costs about half a
 * second of CPU (stat calls), so it runs rarely.
 */
const DEFAULT_POLL_MS = 10_000;
/** Events come in bursts (an editor's save, a copied folder): one scan after the burst settles. */
const SETTLE_MS = 50;

/**
 * Tenants from a folder: `DIR/<bundle>/tenant.yaml` and `DIR/<bundle>/secrets/<secretName>/<key>`,
 * the layout of a dedicated part's `--config` and `--secrets-dir` side by side. The bundle's folder
 * name is its key. Each tenant is validated by the loader `--config` uses; a bundle whose files
 * change is delivered again (its secrets are read afresh when its part is rebuilt). Watched with
 * fs.watch and re-scanned every `pollMs` (10 s), for local runs, tests and the bench.
 */
export class DirectoryTenantSource implements TenantSource {
  readonly #root: string;
  readonly #pollMs: number;
  /** What each delivered (or refused) bundle's files looked like, to deliver only changes. */
  readonly #fingerprints = new Map<string, string>();
  #listener: TenantSourceListener | undefined;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;

  constructor(root: string, options: { pollMs?: number } = {}) {
    this.#root = root;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  async start(listener: TenantSourceListener): Promise<void> {
    this.#listener = listener;
    this.#assertReadable();
    this.scan();
    this.#watcher = watch(this.#root, { recursive: true }, () => this.#scanSoon());
    // A folder removed under the watcher ends it with an error; the poll carries on.
    this.#watcher.on('error', () => this.#watcher?.close());
    this.#poll = setInterval(() => this.scan(), this.#pollMs);
    this.#poll.unref();
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#settle);
    this.#listener = undefined;
  }

  /** Delivers every bundle added, changed or removed since the last scan (tests call it to skip waiting). */
  scan(): void {
    const listener = this.#listener;
    if (!listener) return;
    const present = new Set(this.#bundleNames());
    for (const key of [...this.#fingerprints.keys()]) {
      if (present.has(key)) continue;
      this.#fingerprints.delete(key);
      listener.remove(key);
    }
    for (const key of present) {
      const fingerprint = this.#fingerprint(key);
      if (this.#fingerprints.get(key) === fingerprint) continue;
      this.#fingerprints.set(key, fingerprint);
      const folder = join(this.#root, key);
      try {
        const tenant = loadTenantFile(join(folder, 'tenant.yaml'));
        listener.upsert({ key, tenant, secrets: new SecretDirectory(join(folder, 'secrets')) });
      } catch (err) {
        if (!(err instanceof JsmSsoError)) throw err;
        listener.invalid(key, err);
      }
    }
  }

  #scanSoon(): void {
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => this.scan(), SETTLE_MS);
    this.#settle.unref();
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

  /** Folders that hold a tenant.yaml; a folder being copied in counts once its tenant.yaml is there. */
  #bundleNames(): string[] {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.#root, { withFileTypes: true });
    } catch {
      return [...this.#fingerprints.keys()];
    }
    return entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .filter((name) => statOf(join(this.#root, name, 'tenant.yaml')) !== undefined);
  }

  /**
   * The name, size, inode and change time of the tenant document and of every secret file: a scan of
   * 10,000 idle bundles costs stat calls, never reading or hashing a file.
   */
  #fingerprint(key: string): string {
    const folder = join(this.#root, key);
    return [join(folder, 'tenant.yaml'), ...secretFiles(join(folder, 'secrets'))]
      .map((file) => {
        const stat = statOf(file);
        return `${file}\0${stat?.size}\0${stat?.ino}\0${stat?.mtimeMs}`;
      })
      .join('\0');
  }
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** `secrets/<secretName>/<key>` files; a Kubernetes-style mount's `..data` links are followed by stat. */
function secretFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((secretName) => {
    const folder = join(dir, secretName);
    try {
      return readdirSync(folder)
        .filter((key) => !key.startsWith('..'))
        .map((key) => join(folder, key));
    } catch {
      return [];
    }
  });
}
