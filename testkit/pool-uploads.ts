// Uploads to a portal pool process as its customers send them, and what its spool holds meanwhile
// (ADR 0165, 0211): shared by the pool's spool tests.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../common/net.js';
import type { RunningJsmEmulator } from '../dev/jsm-emulator/emulator.js';
import { startPoolProcess } from './pool.js';
import { writePortalBundle } from './pool-bundle.js';
import { type Browser, bytesUnder, csrfOf, signInAt } from './portal-harness.js';

/** One tenant of spoolPool: its name, its Atlassian site and its spec.portal.limits. */
export interface SpoolTenant {
  name: string;
  siteUrl: string;
  limits: Record<string, unknown>;
}

/** A running spoolPool: the process, the folder its spools are in, alice signed in at each tenant. */
export interface SpoolPool {
  pool: ReturnType<typeof startPoolProcess>;
  spoolTmp: string;
  a: Browser;
  b: Browser;
  /** Stops the process and removes its folders; its exit status and stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/**
 * `jsm-sso portal --pool-dir` with `--upload-spool-mib spoolMib`, serving tenant `a` at 127.0.0.1 and
 * `b` at localhost (one port), its spool under a TMPDIR of its own where the test can see it.
 */
export async function spoolPool(spoolMib: number, a: SpoolTenant, b: SpoolTenant): Promise<SpoolPool> {
  const poolDir = mkdtempSync(join(tmpdir(), 'jsm-sso-portal-pool-'));
  const spoolTmp = mkdtempSync(join(tmpdir(), 'jsm-sso-portal-pool-tmp-'));
  const port = await freePort();
  const urls = { a: `http://127.0.0.1:${port}`, b: `http://localhost:${port}` };
  const keys = {
    a: writePortalBundle(poolDir, 'a', {
      name: a.name,
      portalUrl: urls.a,
      siteUrl: a.siteUrl,
      limits: a.limits,
    }),
    b: writePortalBundle(poolDir, 'b', {
      name: b.name,
      portalUrl: urls.b,
      siteUrl: b.siteUrl,
      limits: b.limits,
    }),
  };
  const pool = startPoolProcess(
    'portal',
    ['--pool-dir', poolDir, '--upload-spool-mib', String(spoolMib)],
    port,
    {
      TMPDIR: spoolTmp,
    },
  );
  const stop = async () => {
    pool.child.kill('SIGTERM');
    const { code, stderr } = await pool.done;
    rmSync(poolDir, { recursive: true, force: true });
    rmSync(spoolTmp, { recursive: true, force: true });
    return { code, stderr };
  };
  try {
    await pool.urls;
    return {
      pool,
      spoolTmp,
      a: await signInAt(urls.a, keys.a, 'alice@acme.test'),
      b: await signInAt(urls.b, keys.b, 'alice@acme.test'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The emulator's request every pool upload test attaches to. */
export function printerRequestKey(emulator: RunningJsmEmulator): string {
  const found = [...emulator.state.requests.values()].find(
    (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
  );
  if (!found) throw new Error("the emulator's seed has no printer request");
  return found.key;
}

/** Bytes in a portal process's upload spools now (each tenant's folder under the process's TMPDIR `spoolTmp`). */
export function spooledBytes(spoolTmp: string): number {
  let total = 0;
  for (const entry of readdirSync(spoolTmp))
    if (entry.startsWith('jsm-sso-portal-uploads-')) total += bytesUnder(join(spoolTmp, entry));
  return total;
}

/** The pool's spool gauges on the process's management port (`managementUrl`). */
export async function spoolGauges(managementUrl: string): Promise<{ capacity: number; reserved: number }> {
  const metrics = await (await fetch(`${managementUrl}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
  return {
    capacity: gauge('jsm_sso_portal_pool_upload_spool_capacity_bytes'),
    reserved: gauge('jsm_sso_portal_pool_upload_spool_reserved_bytes'),
  };
}

async function csrf(browser: Browser, key: string): Promise<string> {
  return csrfOf((await browser.text(`/requests/${key}`)).body);
}

/** Attaches a file of `bytes` to request `key`, as the browser's form does. */
export async function attach(browser: Browser, key: string, bytes: number) {
  const body = new FormData();
  body.append('_csrf', await csrf(browser, key));
  body.append('attachment', new Blob([new Uint8Array(bytes).fill(65)]), `file-${bytes}.txt`);
  const res = await browser.fetch(`/requests/${key}/attachment`, {
    method: 'POST',
    body,
    headers: { origin: browser.base },
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

/** A form being sent (heldForm): its request, its answer once it comes, and how to end it. */
export interface HeldForm {
  req: ClientRequest;
  /** The portal's answer: comes at once for a refused form, never for one being read. */
  answered: Promise<IncomingMessage>;
  abort(): void;
}

/**
 * A comment with files on request `key` whose body declares `declared` bytes but stops after its
 * first 64 KiB: a customer sending slowly. Unless refused, it holds its slot and its room in the
 * pool's spool until `abort()`.
 */
export async function heldForm(browser: Browser, key: string, declared: number): Promise<HeldForm> {
  const boundary = 'held-form-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${await csrf(browser, key)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n` +
      'Content-Type: text/plain\r\n\r\n',
  );
  const req = request(new URL(`/requests/${key}/comment`, browser.base), {
    method: 'POST',
    headers: {
      cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      origin: browser.base,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(declared),
    },
  });
  const answered = new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
  req.on('error', () => {}); // aborted by the test, or closed by the portal after refusing it
  req.write(Buffer.concat([head, Buffer.alloc(64 * 1024, 66)]));
  return { req, answered, abort: () => req.destroy() };
}
