// A portal process killed (SIGKILL, the OOM killer, the kubelet after the grace period) while a
// customer's file is being spooled: its /tmp is the pod's emptyDir, which outlives the container,
// and is sized for one process's spool. The process started next removes what the dead one left
// (ADR 0179); before, each such kill left its spooled files in /tmp until the pod went, and the
// next process's uploads could fill the emptyDir past its sizeLimit: the kubelet evicts the pod.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { csrfOf, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalFiles,
  startPortalProcess,
  waitReady,
  writePortalFiles,
} from '../../testkit/portal-process.js';

describe('faults: a portal killed while a file is being spooled (real processes)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  let emulator: RunningJsmEmulator;
  let redis: LocalRedis;
  let files: PortalFiles;
  let url: string;
  /** The pod's /tmp: the processes' TMPDIR. */
  let podTmp: string;
  let portal: ChildProcess | undefined;
  /** What the process wrote to its standard output: its log, a JSON line each. */
  let output = '';
  const start = async () => {
    output = '';
    portal = startPortalProcess(files, Number(new URL(url).port), await freePort(), {
      TMPDIR: podTmp,
      LOG_LEVEL: 'info',
    });
    portal.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitReady(`${url}/saml/metadata`);
  };
  const kill = async () => {
    const exited = new Promise((resolve) => portal?.once('exit', resolve));
    portal?.kill('SIGKILL');
    await exited;
  };
  /** The spool folders in the pod's /tmp, and the bytes of the files in each. */
  const spoolFolders = () =>
    readdirSync(podTmp)
      .filter((name) => name.startsWith('jsm-sso-portal-uploads-'))
      .map((name) => {
        const files = readdirSync(join(podTmp, name), { recursive: true, withFileTypes: true });
        return { name, files: files.filter((f) => f.isFile()).length };
      });

  before(async () => {
    emulator = await startJsmEmulator({});
    redis = await startLocalRedis();
    url = `http://127.0.0.1:${await freePort()}`;
    files = writePortalFiles({ name: 'spool', portalUrl: url, siteUrl: emulator.url, redisUrl: redis.url });
    podTmp = mkdtempSync(join(tmpdir(), 'jsm-sso-pod-tmp-'));
  });
  after(async () => {
    if (portal && portal.exitCode === null && portal.signalCode === null) await kill();
    await emulator.close();
    await redis.stop();
    files.cleanup();
    rmSync(podTmp, { recursive: true, force: true });
  });

  it('the next process removes the files the killed one was spooling, and keeps a live process’s', async () => {
    await start();
    const browser = await signInAt(url, files.brokerKey, 'alice@acme.test');
    const key = [...emulator.state.requests.values()][0]!.key;
    const csrf = csrfOf((await browser.text(`/requests/${key}`)).body);
    // An upload that promises a megabyte and sends 64 KB of it: the file is being spooled.
    const boundary = 'jsmssoboundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="big.txt"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    );
    const { hostname, port, host } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    socket.write(
      `POST /requests/${key}/attachment HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${url}\r\n` +
        `Cookie: ${cookie}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${head.length + 1024 * 1024}\r\n\r\n`,
    );
    socket.write(head);
    socket.write(Buffer.alloc(64 * 1024, 65));
    await eventually(async () => spoolFolders().some((f) => f.files > 0), 'part of the file spooled');
    const [killed] = spoolFolders();

    await kill();
    socket.destroy();
    expect(spoolFolders(), 'what the killed process left').to.deep.equal([killed]);
    // A spool of a process that lives (this one's pid): never another live process's to remove.
    const live = join(podTmp, `jsm-sso-portal-uploads-${process.pid}-live`);
    mkdirSync(join(live, '0'), { recursive: true });
    writeFileSync(join(live, '0', '0'), 'in flight');

    await start();
    const after = spoolFolders().map((f) => f.name);
    expect(after, 'the killed process’s spool').to.not.include(killed!.name);
    expect(after, 'the live process’s spool').to.include(`jsm-sso-portal-uploads-${process.pid}-live`);
    expect(existsSync(join(live, '0', '0'))).to.equal(true);
    expect(after, 'the spool of the process started').to.have.length(2);
    const cleared = output.split('\n').filter((l) => l.includes('"event":"portal.upload_spool_cleared"'));
    expect(cleared.map((l) => (JSON.parse(l) as { folders: number }).folders)).to.deep.equal([1]);
    rmSync(live, { recursive: true, force: true });
  });
});
