import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { checkOutputOf } from './part-process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `jsm-sso <args>` from source (tsx) and collects its output and exit code, every line checked
 * for personal data and secrets (ADR 0255). The deadline only
 * catches a command that never exits: tsx compiles the CLI's import graph on each start, which took
 * more than 15 s on a loaded 2-core machine, so it is generous.
 */
export function runCli(args: string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  const root = packageRoot();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', join(root, 'cli', 'main.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    checkOutputOf(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`jsm-sso ${args.join(' ')} did not exit; stderr: ${stderr}`));
    }, options.timeoutMs ?? 45_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
