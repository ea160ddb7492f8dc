// The processes of a test run, read from /proc: which ones still carry the run's mark, which ones
// descend from a process, and whether one is still alive. Node has no prctl(PR_SET_PDEATHSIG) nor
// PR_SET_CHILD_SUBREAPER: a child whose parent dies is reparented to init and keeps running, so the
// runner finds what a run left behind by the mark every process of the run inherits in its environment
// (test/run.ts sets it), and the mocha process ends its own children with their descendants
// (test/child-registry.ts).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The environment variable whose value names the run (its temporary folder) in every process of it. */
export const RUN_MARK = 'JSM_SSO_TEST_RUN';

/**
 * A process of the run as a report names it: its pid and its executable's name (/proc/<pid>/comm, never
 * its arguments, which may hold a token or a kubeconfig's path).
 */
export interface RunProcess {
  pid: number;
  name: string;
}

/**
 * Every live process but this one whose environment at its start held `RUN_MARK=run`, or whose working
 * folder is in the run's folder `run`: redis-server writes its title over its environment
 * (setproctitle), so /proc/<pid>/environ reads empty for every Redis of the run (an orphaned one was
 * found so), while the tests start it in a folder of the run's.
 */
export function processesOfRun(run: string): RunProcess[] {
  const entry = `${RUN_MARK}=${run}`;
  const inRun = (pid: number) => {
    const cwd = cwdOf(pid);
    return cwd === run || cwd.startsWith(`${run}/`) || environmentOf(pid).includes(entry);
  };
  return allPids()
    .filter((pid) => pid !== process.pid && isAlive(pid) && inRun(pid))
    .map((pid) => ({ pid, name: nameOf(pid) }));
}

/** The working folder of `pid`, or '' once it is gone or not ours to read. */
function cwdOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return '';
  }
}

/** The pids of `pid`'s children, their children and so on, read at this moment. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const each of allPids()) {
    const parent = parentOf(each);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), each]);
  }
  const found: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

/** Whether `pid` runs: it exists and is no zombie (exited, not yet reaped by its parent). */
export function isAlive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** The executable's name of `pid`, or '?' once it is gone. */
function nameOf(pid: number): string {
  return readOrEmpty(`/proc/${pid}/comm`).trim() || '?';
}

/** SIGKILL to each pid; one gone already is no error. */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited since it was listed.
    }
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

function parentOf(pid: number): number | undefined {
  const ppid = statFields(pid)?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** /proc/<pid>/stat after the command's name (which may hold spaces and parentheses): state, ppid, … */
function statFields(pid: number): string[] | undefined {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const end = stat.lastIndexOf(')');
  return end < 0 ? undefined : stat.slice(end + 2).split(' ');
}

function environmentOf(pid: number): string[] {
  return readOrEmpty(`/proc/${pid}/environ`).split('\0');
}

/** A file of /proc, or '' when the process is gone or not ours to read. */
function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
