import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { packageRoot } from '../common/paths.js';
import { underResolver } from './name-server.js';
import { checkLogLine } from './recent-logs.js';

/** The source entry point under tsx: what tests run. */
export const SOURCE_ENTRY = ['--import=tsx', join(packageRoot(), 'cli/main.ts')];

/**
 * Starts `jsm-sso <args>` as a real process, from source unless `entry` names another (the bench's
 * compiled dist/cli/main.js); stdout (JSON log lines) and stderr are piped. Every line of both is
 * checked for personal data and secrets, as the in-process harnesses' are (ADR 0246, 0255); of a
 * `jsm-sso dev` tool, its JSON log lines.
 */
export function jsmSso(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  entry: string[] = SOURCE_ENTRY,
  /** Another user to run as (tests run as root; a hardened pod does not). */
  user?: { uid: number; gid: number },
  /** A resolv.conf its name resolver reads instead of the machine's (testkit/name-server.ts). */
  resolvConf?: string,
): ChildProcess {
  const [command, wrapped] =
    resolvConf === undefined
      ? [process.execPath, [...entry, ...args]]
      : underResolver(resolvConf, process.execPath, [...entry, ...args]);
  const child = spawn(command, wrapped, {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    ...user,
  });
  if (args[0] === 'dev') checkLogLinesOf(child);
  else checkOutputOf(child);
  return child;
}

/**
 * Checks the JSON log lines a `jsm-sso dev` tool or `npm start` writes to stdout, as they come (ADR
 * 0255). These run the tests' doubles (an IdP, an Atlassian emulator), whose banner names their fixed
 * test people for the developer: of their output only the JSON log lines are checked. `npm start`
 * writes each of its parts' lines behind the part's name (`[broker] {...}`, `[jsm-emulator/acme] {...}`).
 */
export function checkLogLinesOf(child: ChildProcess): void {
  eachLine(child.stdout!, (line) => {
    const logLine = line.replace(/^\[[^\]\s]+\] /, '');
    if (logLine.startsWith('{')) checkLogLine(logLine, `the log of process ${child.pid}`);
  });
}

/**
 * Checks every line a process writes to its piped stdout and stderr, JSON or not, for personal data
 * and secrets (ADR 0255): a pod's stderr, a crash's stack or a usage error, reaches the same log as
 * its JSON lines. Reading the pipes also drains them, so a caller that reads neither never blocks
 * the process.
 */
export function checkOutputOf(child: ChildProcess): void {
  const pid = child.pid;
  if (child.stdout)
    eachLine(child.stdout, (line) => checkLogLine(line, `the stdout of process ${pid}`), true);
  if (child.stderr)
    eachLine(child.stderr, (line) => checkLogLine(line, `the stderr of process ${pid}`), true);
}

/** The URLs the process logs as `server.listening`, by server name, once all `names` are up. */
export function listening(child: ChildProcess, names: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const urls: Record<string, string> = {};
    onLogLine(child, (entry) => {
      if (entry['event'] === 'server.listening') urls[String(entry['server'])] = String(entry['url']);
      if (names.every((n) => urls[n])) resolve(urls);
    });
    // What it said before it went (a usage or configuration error is one stderr line), read at 'close'
    // when the pipes are drained: without it the failure named only the exit code.
    exited(child).then(({ code, stderr }) =>
      reject(
        new Error(`exited with ${code} before listening${stderr ? `: ${stderr.trim().slice(-2000)}` : ''}`),
      ),
    );
  });
}

/** Calls `each` with every JSON log line the process writes to stdout. */
export function onLogLine(child: ChildProcess, each: (entry: Record<string, unknown>) => void): void {
  eachLine(child.stdout!, (line) => {
    if (line.startsWith('{')) each(JSON.parse(line) as Record<string, unknown>);
  });
}

/**
 * Calls `each` with every line of `stream`; with `unterminated`, the last one too when the stream
 * ends without a newline (a process killed mid-line leaves half a JSON line).
 */
function eachLine(stream: Readable, each: (line: string) => void, unterminated = false): void {
  // A character split between two chunks is joined, not read as two replacement characters.
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += decoder.write(chunk);
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) each(line);
  });
  if (unterminated)
    stream.on('end', () => {
      buffered += decoder.end();
      if (buffered) each(buffered);
    });
}

/**
 * Resolves with the exit code and everything written to stderr: at 'close', since at 'exit' the
 * pipes may still hold output (seen under load: exit code 2 with stderr '').
 */
export function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  // A child already closed (its 'close' gone by: an after hook stopping a process that failed at start)
  // emits no other; its exit code is kept.
  const closed = child.exitCode !== null || child.signalCode !== null;
  if (closed && [child.stdout, child.stderr].every((pipe) => !pipe || pipe.closed))
    return Promise.resolve({ code: child.exitCode, stderr });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}
