// pysaml2 (Python) as an independent SAML peer: test/interop/py/peer.py served on loopback, in the
// venv that .ci/python-peers.sh keeps (CI exports its python as JSM_SSO_PYTHON).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../common/paths.js';

const ciTools = new Map<string, string>();

/**
 * A tool a .ci script installs into a cache and names on its last stdout line: CI exports that
 * line as `envVar`; without it the script runs here. Throws (the test fails) when it cannot.
 */
export function ciTool(envVar: string, script: string): string {
  const known = process.env[envVar] ?? ciTools.get(envVar);
  if (known) return known;
  const path = join(packageRoot(), '.ci', script);
  const out = execFileSync('bash', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const last = out.trim().split('\n').at(-1);
  if (!last) throw new Error(`${path} printed no path`);
  ciTools.set(envVar, last);
  return last;
}

/** The venv's python; creates the venv when CI did not. */
export function peerPython(): string {
  return ciTool('JSM_SSO_PYTHON', 'python-peers.sh');
}

export interface PeerOptions {
  brokerUrl: string;
  keyFile: string;
  certFile: string;
  /** The SP role's signature algorithm (the tenant's spec.signatureAlgorithm); default rsa-sha256. */
  signAlg?: 'rsa-sha256' | 'ecdsa-sha256';
  /** The IdP role's one user: NameID (e-mail format) and attribute values. */
  user?: { nameId: string; attributes: Record<string, string[]> };
  /** The IdP role: the broker's SP metadata it reads (default /saml/sp-metadata). */
  spMetadataPath?: string;
  /** The IdP role: a key and certificate that are not the IdP's, to sign forgeries with. */
  otherKeyFile?: string;
  otherCertFile?: string;
}

export interface Peer {
  url: string;
  /** What the peer wrote to stderr (pysaml2 tracebacks), for failure messages. */
  stderr(): string;
  close(): Promise<void>;
}

export async function startPeer(role: 'sp' | 'idp', options: PeerOptions): Promise<Peer> {
  const child: ChildProcess = spawn(
    peerPython(),
    [join(packageRoot(), 'test', 'interop', 'py', 'peer.py'), role, JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then(() => {
      throw new Error(`pysaml2 ${role} peer exited: ${stderr}`);
    }),
  ]);
  lines.close();
  const { url } = JSON.parse(first) as { url: string };
  return {
    url,
    stderr: () => stderr,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The fields and action of an auto-post form, whoever wrote it (pysaml2 or the broker). */
export function autoPostForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*\saction="([^"]+)"/i.exec(html)?.[1];
  if (!action) throw new Error(`no form in ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\sname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\svalue="([^"]*)"/i.exec(input[0])?.[1];
    if (name && value !== undefined) fields[name] = decodeEntities(value);
  }
  return { action: decodeEntities(action), fields };
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, code: string) => String.fromCharCode(Number.parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
