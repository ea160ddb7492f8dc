// A TCP address whose connects never complete: what a client sees of a firewall that drops packets or a
// host gone from the network. Node's own listeners accept every connection, so the listener is a child
// process stopped (SIGSTOP) once its accept queue is full: Linux then drops each new SYN (tcp_syncookies
// or not), and the client's connect waits in SYN_SENT, its retransmissions unanswered, until it gives up.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { eventually } from './envtest.js';

export interface BlackHole {
  port: number;
  /** Connections to the black hole this machine has waiting in SYN_SENT now (its own fillers complete). */
  connecting(): number;
  close(): Promise<void>;
}

/** The accept queue of a listen(2) backlog of 1 holds 2 connections (Linux: full past `backlog`). */
const BACKLOG = 1;

const LISTENER = `const s = require('node:net').createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: ${BACKLOG} }, () => process.stdout.write(s.address().port + '\\n'));`;

export async function startBlackHole(): Promise<BlackHole> {
  const child = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  child.kill('SIGSTOP');
  await eventually(async () => stateOf(child) === 'T', 'the listener stopped');
  // Completed by the kernel, taken by nobody: the queue full, the next SYN is dropped.
  const fillers: Socket[] = [];
  for (let i = 0; i <= BACKLOG; i++) {
    const socket = connect(port, '127.0.0.1');
    fillers.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  }
  return {
    port,
    connecting: () => synSentTo(port),
    async close() {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The process state letter of /proc/<pid>/stat (T: stopped). */
function stateOf(child: ChildProcess): string | undefined {
  return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${child.pid}/stat`, 'utf8'))?.[1];
}

/** Sockets of /proc/net/tcp in SYN_SENT (state 02) towards 127.0.0.1:`port`. */
function synSentTo(port: number): number {
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[2] === remote && fields[3] === '02').length;
}
