import { createHash, X509Certificate } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import type { FileServerTls } from './server-tls.js';

export interface TlsReloadOptions {
  logger: Logger;
  /** Server name for logs. */
  name: string;
  /** Fallback poll interval, for file systems where watching misses events (default 30 s). */
  pollMs?: number;
  /** Quiet time after the last change before reloading; a rotation writes several files (default 250 ms). */
  debounceMs?: number;
  /** Called after each reload attempt that found new files (tests wait on it). */
  onReload?: (outcome: { ok: true } | { ok: false; error: unknown }) => void;
}

export interface TlsReloader {
  /** Reloads now if the files changed since the last successful load. */
  check(): void;
  close(): void;
}

/**
 * Reloads a server's key and certificate when their files change, without a restart. Kubernetes
 * updates a mounted Secret by swapping a `..data` symlink in the mount directory, so the
 * directories are watched rather than the files, and a poll catches what watching misses. Content
 * is compared, not timestamps, so a touched but identical file does nothing. A pair that does not
 * load (say, a new certificate with the old key mid-rotation) keeps the old pair serving and is
 * retried on the next change or poll.
 */
export function watchServerTls(
  source: FileServerTls,
  reload: () => void,
  options: TlsReloadOptions,
): TlsReloader {
  const { logger } = options;
  let loaded = fingerprint(source);
  let debounce: NodeJS.Timeout | undefined;

  const check = () => {
    const current = fingerprint(source);
    if (current === undefined || current === loaded) return;
    try {
      reload();
    } catch (error) {
      logger.warn(
        { event: 'tls.reload_failed', server: options.name, reason: 'TLS_RELOAD_FAILED', err: error },
        'new TLS key/certificate could not be loaded; still serving the previous ones',
      );
      options.onReload?.({ ok: false, error });
      return;
    }
    loaded = current;
    logger.info(
      { event: 'tls.reloaded', server: options.name, ...describeCertificate(source.certFile) },
      'TLS certificate reloaded',
    );
    options.onReload?.({ ok: true });
  };
  const schedule = () => {
    clearTimeout(debounce);
    debounce = setTimeout(check, options.debounceMs ?? 250);
    debounce.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(source.certFile), dirname(source.keyFile)])) {
    try {
      const watcher = watch(dir, { persistent: false }, schedule);
      watcher.on('error', (err) =>
        logger.warn({ event: 'tls.watch_failed', server: options.name, dir, err }, 'watch failed; polling'),
      );
      watchers.push(watcher);
    } catch (err) {
      logger.warn({ event: 'tls.watch_failed', server: options.name, dir, err }, 'cannot watch; polling');
    }
  }
  const poll = setInterval(check, options.pollMs ?? 30_000);
  poll.unref();

  return {
    check,
    close() {
      clearInterval(poll);
      clearTimeout(debounce);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** Hash of both files; undefined while one is missing (in the middle of a swap). */
function fingerprint(source: FileServerTls): string | undefined {
  try {
    const hash = createHash('sha256');
    hash.update(readFileSync(source.certFile));
    hash.update('\0');
    hash.update(readFileSync(source.keyFile));
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/** Public facts about the served leaf certificate, for the reload log line. */
function describeCertificate(certFile: string): Record<string, string> {
  try {
    const leaf = new X509Certificate(readFileSync(certFile));
    return { serial: leaf.serialNumber, fingerprint256: leaf.fingerprint256, notAfter: leaf.validTo };
  } catch {
    return {};
  }
}
