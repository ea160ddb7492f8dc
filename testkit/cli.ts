import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `jsm-sso <args>` from source (tsx) and collects its output and exit code. */
export function runCli(args: string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  const root = packageRoot();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', join(root, 'cli', 'main.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`jsm-sso ${args.join(' ')} did not exit; stderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
