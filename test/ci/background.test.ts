// .ci/progress.sh, with which .ci/run builds the Go tools in the background of the other stages (ADR
// 0196): a job's result reaches the stage that joins it, a failed job stops the run at the next
// stage with its output, a long step is never silent, and a run that ends takes its jobs with it.
// Each case runs a small bash script that sources the real file, as .ci/run does.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';

const PROGRESS = join(packageRoot(), '.ci/progress.sh');

/** A script like .ci/run: strict mode, the helpers, the traps, a `step` that checks the jobs. */
function runScript(body: string): string {
  return `set -euo pipefail
. ${JSON.stringify(PROGRESS)}
step() { background_failures; printf '== %s\\n' "$*"; }
trap stop_background EXIT
trap 'exit 143' TERM HUP
${body}`;
}

describe('CI background jobs (.ci/progress.sh)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-ci-background-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the stage that joins a job the last line of the job's stdout, after showing its stderr", () => {
    const run = spawnSync(
      'bash',
      [
        '-c',
        runScript(`
in_background tools bash -c 'echo "[tools] building" >&2; echo noise; echo /cache/tools'
step "cluster"
from_background tools TOOLS
bash -c 'echo "the stage sees TOOLS=$TOOLS"'`),
      ],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('the stage sees TOOLS=/cache/tools');
    expect(run.stderr).to.match(/\[tools\] building\n\[tools\] done \(waited \d+s\): TOOLS=\/cache\/tools/);
  });

  it('stops the run at the next stage when a job has failed, with its output and its exit code', () => {
    // The later job is the one the next stage would join; the run must not get that far.
    const run = spawnSync(
      'bash',
      [
        '-c',
        runScript(`
in_background k8s-tools bash -c 'echo "[k8s-tools] ERROR: go not found in PATH" >&2; exit 4'
in_background promtool bash -c 'echo /cache/promtool'
from_background promtool PROMTOOL
step "npm ci"
echo "npm ci ran"`),
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).to.equal(4);
    expect(run.stdout).not.to.contain('npm ci ran');
    expect(run.stderr).to.contain('[k8s-tools] ERROR: go not found in PATH');
    expect(run.stderr).to.contain('[k8s-tools] FAILED (exit 4): its output is above');
  });

  it('says a long step is still running, at each interval, until it ends', async () => {
    // The step waits on a FIFO that this test opens only once the first "still running" line is out.
    const fifo = join(dir, 'release');
    expect(spawnSync('mkfifo', [fifo]).status).to.equal(0);
    const child = spawn(
      'bash',
      [
        '-c',
        `. ${JSON.stringify(PROGRESS)}; PROGRESS_EVERY=1 with_progress "[go] go build" bash -c 'read -r < "$1"; exit 7' _ ${JSON.stringify(fifo)}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('[go] go build still running (')) resolve();
      });
    });
    writeFileSync(fifo, 'go\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, 'with_progress returns the command exit code').to.equal(7);
    expect(stderr).to.match(/^\[go\] go build still running \(\d+s\)$/m);
  });

  it("ends a job's whole process group when the run ends early, with nothing left running", async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const run = spawnSync(
      'bash',
      [
        '-c',
        runScript(`
in_background k8s-tools bash -c 'sleep 600 & echo $! > ${JSON.stringify(pidFile)}; wait'
until [ -s ${JSON.stringify(pidFile)} ]; do sleep 0.1; done
step "npm ci"
false`),
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).to.equal(1);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await gone(pid), `the build's process ${pid} is still running`).to.equal(true);
  });
});

/** Whether process `pid` has ended (gone, or a zombie nobody has reaped yet), watched for up to 10 s. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
