import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { type Browser, csrfOf, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalFiles,
  startPortalProcess,
  waitReady,
  writePortalFiles,
} from '../../testkit/portal-process.js';

describe('faults: a portal killed between Atlassian’s create and its answer (real processes)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  let emulator: RunningJsmEmulator;
  let redis: LocalRedis;
  let files: PortalFiles;
  let url: string;
  let portal: ChildProcess | undefined;
  const start = async () => {
    const port = Number(new URL(url).port);
    portal = startPortalProcess(files, port, await freePort());
    await waitReady(`${url}/saml/metadata`);
  };
  const kill = async () => {
    const exited = new Promise((resolve) => portal?.once('exit', resolve));
    portal?.kill('SIGKILL');
    await exited;
  };

  before(async () => {
    emulator = await startJsmEmulator({});
    redis = await startLocalRedis();
    url = `http://127.0.0.1:${await freePort()}`;
    files = writePortalFiles({ name: 'crash', portalUrl: url, siteUrl: emulator.url, redisUrl: redis.url });
  });
  afterEach(async () => {
    emulator.faults.clear();
    if (portal && portal.exitCode === null && portal.signalCode === null) await kill();
  });
  after(async () => {
    await emulator.close();
    await redis.stop();
    files.cleanup();
  });

  const requestsWith = (summary: string) =>
    [...emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary);

  async function until(probe: () => boolean, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The raise-request form as rendered, and a way to send it (again) as the browser would. */
  async function openCreateForm(browser: Browser, summary: string) {
    const desk = (await browser.text('/desk/1')).body;
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
    const form = (await browser.text(`/desk/1/create/${typeId}`)).body;
    const writeKey = /name="_write" value="(jsmsso[0-9a-f]{24})"/.exec(form)?.[1];
    expect(writeKey, 'the form carries a write key').to.be.a('string');
    const fields = {
      _csrf: csrfOf(form),
      _write: writeKey!,
      f_summary: summary,
      f_description: 'Sent once, answered never.',
    };
    return () => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      return browser.fetch(`/desk/1/create/${typeId}`, { method: 'POST', body, headers: { origin: url } });
    };
  }

  it('resubmitting the form after the crash yields exactly one request, and the customer lands on it', async () => {
    await start();
    const browser = await signInAt(url, files.brokerKey, 'alice@acme.test');
    const summary = `Crash mid-create ${Date.now()}`;
    const send = await openCreateForm(browser, summary);
    // Atlassian creates the request, then holds its answer: the portal dies before it hears back.
    emulator.faults.set({
      holdAnswerMs: 60_000,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
    });
    const first = send().then(
      (res) => String(res.status),
      () => 'connection lost',
    );
    await until(() => requestsWith(summary).length === 1);
    await kill();
    // What a load balancer turns into a 502.
    expect(await first).to.equal('connection lost');

    await start();
    const again = await send();
    expect(again.status).to.equal(303);
    const [created] = requestsWith(summary);
    expect(again.headers.get('location')).to.equal(`/requests/${created!.key}?created=1`);
    expect(requestsWith(summary)).to.have.length(1);
    const landing = await browser.text(again.headers.get('location')!);
    expect(landing.status).to.equal(200);
    expect(landing.body).to.contain(summary).and.contain('Your request was sent.');
    // The portal reference is for the portal: the customer never sees it.
    expect(landing.body).to.not.contain('portal reference');

    // And the back button later: the same form once more still adds nothing.
    expect((await send()).status).to.equal(303);
    expect(requestsWith(summary)).to.have.length(1);
  });
});
