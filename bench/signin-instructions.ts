// `node --import tsx bench/signin-instructions.ts [rsa|ec] [http|https] [BUILD/dist/cli/main.js ...]`:
// instructions per full sign-in of each build's broker, counted by valgrind's callgrind, which machine
// load does not move (the CPU figures of `npm run bench -- signin` move by ±15 % from run to run on a
// shared machine). Each broker runs as a `jsm-sso broker` child process under callgrind with
// instrumentation off; after WARM_UP sign-ins (JSM_SSO_BENCH_CALLGRIND_WARM_UP, default 40: valgrind runs
// a broker about 50 times slower) it is switched on for MEASURED more, and the count is of every thread
// of the process (event loop, libuv threadpool, V8's compiler and GC threads). After 40 sign-ins V8
// still interprets much of the code: the count weighs JavaScript more than a warmed broker spends on it.
// Without a build argument it counts this checkout's dist/. Under valgrind OpenSSL takes its generic
// code, so the RSA operations count for more than they cost natively: compare builds, not scenarios.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, setGlobalDispatcher } from 'undici';
import type { DevIdp } from '../dev/idp/provider.js';
import { makeTestCa } from '../testkit/pki.js';
import { BROKER_ENTRY } from './broker.js';
import { signIns, startScenario } from './signin-cost.js';

const WARM_UP = Number(process.env['JSM_SSO_BENCH_CALLGRIND_WARM_UP'] ?? 40);
const MEASURED = 30;

const keyType = process.argv[2] === 'ec' ? 'ec' : 'rsa';
const transport = process.argv[3] === 'https' ? 'https' : 'http';
const builds = process.argv.length > 4 ? process.argv.slice(4).map((entry) => [entry]) : [BROKER_ENTRY.args];
const ca = makeTestCa('jsm-sso instructions CA');
setGlobalDispatcher(new Agent({ connect: { ca: [ca.caPem] } }));
const idps: DevIdp[] = [];
try {
  for (const entry of builds) {
    const outDir = mkdtempSync(join(tmpdir(), 'jsm-sso-callgrind-'));
    const scenario = await startScenario(
      keyType,
      transport,
      ca.issue({ hosts: ['127.0.0.1'] }),
      ca.caPem,
      (idp) => idps.push(idp),
      [],
      entry,
      undefined,
      [
        'valgrind',
        '-q',
        '--tool=callgrind',
        '--instr-atstart=no',
        `--callgrind-out-file=${join(outDir, 'out.%p')}`,
      ],
    );
    try {
      await signIns(scenario, WARM_UP);
      callgrindControl('--instr=on', scenario.pid);
      await signIns(scenario, MEASURED);
      callgrindControl('--dump', scenario.pid);
      callgrindControl('--instr=off', scenario.pid);
      console.log(`${entry.at(-1)} ${keyType} ${transport}: ${perSignIn(outDir)} M instructions per sign-in`);
    } finally {
      await scenario.stop();
      rmSync(outDir, { recursive: true, force: true });
    }
  }
} finally {
  for (const idp of idps) await idp.close();
  ca.cleanup();
}
process.exit(0);

function callgrindControl(command: string, pid: number): void {
  execFileSync('callgrind_control', [command, String(pid)], { stdio: 'ignore' });
}

/** Millions of instructions per measured sign-in, from the dumps' `summary:` lines. */
function perSignIn(outDir: string): string {
  let total = 0;
  for (const file of readdirSync(outDir)) {
    const summary = /^summary: (\d+)/m.exec(readFileSync(join(outDir, file), 'utf8'));
    if (summary) total += Number(summary[1]);
  }
  return (total / MEASURED / 1e6).toFixed(2);
}
