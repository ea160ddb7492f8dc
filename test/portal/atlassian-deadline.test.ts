import { expect } from 'chai';
import { createTlsFetch, type TlsFetch } from '../../common/tls/index.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import { timersLeftBy } from '../../testkit/pending-timers.js';

/**
 * Every Atlassian call is bounded by a deadline covering its headers and its body
 * (test/faults/atlassian-network.test.ts shows a stalled body cut). Once the body is read the
 * deadline must be gone: a timer left to run out kept every call's abort signal alive after it,
 * garbage the collector paid for on every page a customer opened (ADR 0163). Timers are watched
 * through async_hooks, as Node reports them; the emulator answers in this process, so only those
 * the transport made count (its file is on their creation stack).
 */
describe('an Atlassian call’s deadline', function () {
  this.timeout(30_000);
  let emulator: RunningJsmEmulator;
  let fetch: TlsFetch;
  let client: AtlassianClient;
  let key: string;
  let fileId: string;

  before(async () => {
    emulator = await startJsmEmulator({});
    // The portal's own fetch (portal/app.ts): verified TLS, bounded answers.
    fetch = createTlsFetch({ maxResponseBytes: 8 * 1024 * 1024 });
    client = new AtlassianClient({
      siteUrl: emulator.url,
      ...SERVICE_ACCOUNT,
      timeoutMs: 10_000,
      fetch,
    });
    const printer = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    key = printer.key;
    fileId = printer.attachments.find((a) => a.filename === 'fuser-order.txt')!.id;
    // The first call also opens the connection: not what is measured.
    await client.serviceDesks();
  });
  afterEach(() => emulator.faults.clear());
  after(async () => {
    await fetch.close();
    await emulator.close();
  });

  /** The timers the Atlassian transport creates while `body` runs that are still pending after it. */
  const transportTimersLeftBy = (body: () => Promise<unknown>) =>
    timersLeftBy(body, '/portal/atlassian/http.ts');

  it('twenty reads leave no timer pending once answered', async () => {
    const left = await transportTimersLeftBy(async () => {
      for (let i = 0; i < 20; i++) await client.serviceDesks();
    });
    expect(left).to.equal(0);
  });

  it('a write leaves no timer pending once answered', async () => {
    expect(await transportTimersLeftBy(() => client.addPublicComment(key, 'Deadline check'))).to.equal(0);
  });

  it('an error answer leaves no timer pending', async () => {
    const left = await transportTimersLeftBy(() => client.request('NOPE-404').catch(() => undefined));
    expect(left).to.equal(0);
  });

  // The deadline's clock runs only while a read of the body waits on Atlassian (ADR 0201): a body
  // not yet asked for waits on the portal's reader (a customer's download at the customer's pace),
  // which streamThrough bounds. The next test shows a read that waits on Atlassian still cut.
  it('a download holds no timer while its body is not being read, nor once it is read or cancelled', async () => {
    let download: Response | undefined;
    expect(
      await transportTimersLeftBy(async () => {
        download = await client.attachmentContent(key, fileId, 1024);
      }),
      'the clock stopped while the caller reads nothing',
    ).to.equal(0);
    expect(await download!.text()).to.equal('Fuser unit RM1-1082, delivery Thursday');

    expect(
      await transportTimersLeftBy(async () => {
        const read = await client.attachmentContent(key, fileId, 1024);
        await read.arrayBuffer();
      }),
      'read to its end',
    ).to.equal(0);
    expect(
      await transportTimersLeftBy(async () => {
        const cancelled = await client.attachmentContent(key, fileId, 1024);
        await cancelled.body!.cancel();
      }),
      'cancelled (the customer hung up)',
    ).to.equal(0);
  });

  it('still cuts a download whose body stalls after the headers, with a TimeoutError', async () => {
    const slow = new AtlassianClient({
      siteUrl: emulator.url,
      ...SERVICE_ACCOUNT,
      timeoutMs: 300,
      fetch,
    });
    emulator.faults.set({
      pathPrefix: `/rest/servicedeskapi/request/${key}/attachment/${fileId}`,
      times: 1,
      trickle: { sliceBytes: 8, intervalMs: 60_000 },
    });
    const download = await slow.attachmentContent(key, fileId, 1024);
    const cut = await download.text().catch((err: unknown) => err);
    expect((cut as Error).name).to.equal('TimeoutError');
  });
});
