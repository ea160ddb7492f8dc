// A file streamed through the portal can stop early at either end. The customer hanging up (the
// browser navigated on) is no error: the download from the emulator stops at once (its connection
// closes), one info line and a counter, never PORTAL_INTERNAL. The emulator dying mid-body is an
// upstream failure: the customer's download is cut and the log says ATLASSIAN_UNREACHABLE.
import { expect } from 'chai';
import { eventually } from '../../testkit/envtest.js';
import { type Browser, type Harness, reasons, signIn, useHarness } from '../../testkit/portal-harness.js';

const FILE_BYTES = 4 * 1024 * 1024;
const SLICE_BYTES = 64 * 1024;

describe('portal downloads that end early', () => {
  let h: Harness;
  let alice: Browser;
  let key: string;
  let id: string;
  useHarness(async (harness) => {
    h = harness;
    alice = await signIn(h, 'alice@acme.test');
    const printer = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const file = printer.attachments.find((a) => a.filename === 'fuser-order.txt')!;
    file.content = Buffer.alloc(FILE_BYTES, 'x');
    key = printer.key;
    id = file.id;
  });

  const aborts = async () =>
    (await h.registry.getSingleMetric('jsm_sso_portal_client_aborts_total')?.get())?.values[0]?.value ?? 0;
  /** The emulator sends the file slowly and reports how its answer ended. */
  const slowFile = (extra: { delayMs?: number; dropAfterBytes?: number } = {}) =>
    new Promise<{ sentBytes: number; finished: boolean }>((onClose) => {
      h.emulator.faults.set({
        pathPrefix: `/rest/servicedeskapi/request/${key}/attachment/${id}`,
        times: 1,
        ...(extra.delayMs === undefined ? {} : { delayMs: extra.delayMs }),
        trickle: {
          sliceBytes: SLICE_BYTES,
          intervalMs: 20,
          ...(extra.dropAfterBytes === undefined ? {} : { dropAfterBytes: extra.dropAfterBytes }),
          onClose,
        },
      });
    });

  it('stops the upstream download when the client hangs up mid-body, and logs no error', async () => {
    const from = h.logs.length;
    const before = await aborts();
    const upstream = slowFile();
    const client = new AbortController();
    const res = await alice.fetch(`/requests/${key}/attachment/${id}`, { signal: client.signal });
    expect(res.status).to.equal(200);
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 2 * SLICE_BYTES) received += (await reader.read()).value?.length ?? 0;
    client.abort();

    const end = await upstream;
    expect(end.finished, 'the emulator saw its connection closed before the end').to.equal(false);
    expect(end.sentBytes).to.be.below(FILE_BYTES);
    await eventually(async () => (await aborts()) === before + 1, 'the client abort counted');
    const logged = reasons(h, from);
    expect(logged).to.not.include('PORTAL_INTERNAL');
    expect(logged.filter((r) => r === 'PORTAL_CLIENT_ABORTED')).to.have.length(1);
    const line = JSON.stringify(h.logs.slice(from));
    expect(line).to.not.include('fuser-order').and.not.include(`/attachment/${id}`);
    expect(h.logs.slice(from).filter((l) => l['level'] === 'error' || l['level'] === 50)).to.deep.equal([]);
  });

  it('stops the upstream download when the client hung up while Atlassian was still to answer', async () => {
    const from = h.logs.length;
    const before = await aborts();
    const upstream = slowFile({ delayMs: 1000 });
    const client = new AbortController();
    const asked = alice.fetch(`/requests/${key}/attachment/${id}`, { signal: client.signal });
    // The portal is waiting for the emulator's headers: hang up now.
    await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the emulator asked for the file');
    client.abort();
    await asked.catch(() => {});

    const end = await upstream;
    expect(end.finished).to.equal(false);
    await eventually(async () => (await aborts()) === before + 1, 'the client abort counted');
    expect(reasons(h, from)).to.include('PORTAL_CLIENT_ABORTED');
    expect(reasons(h, from)).to.not.include('PORTAL_INTERNAL');
  });

  it('cuts the customer’s download and logs an upstream failure when the emulator dies mid-body', async () => {
    const from = h.logs.length;
    const before = await aborts();
    const upstream = slowFile({ dropAfterBytes: 4 * SLICE_BYTES });
    const res = await alice.fetch(`/requests/${key}/attachment/${id}`);
    expect(res.status).to.equal(200);
    let cut: unknown;
    await res.arrayBuffer().catch((err: unknown) => {
      cut = err;
    });
    expect(cut, 'the download is cut, not ended as if complete').to.be.instanceOf(Error);

    expect((await upstream).finished).to.equal(false);
    await eventually(
      async () => reasons(h, from).includes('ATLASSIAN_UNREACHABLE'),
      'the upstream failure logged',
    );
    expect(reasons(h, from)).to.not.include('PORTAL_INTERNAL');
    expect(reasons(h, from)).to.not.include('PORTAL_CLIENT_ABORTED');
    expect(await aborts()).to.equal(before);
  });

  it('answers the 502 page, with none of the file’s headers, when the emulator dies after its headers before any byte', async () => {
    // Nothing of the file went out: the customer can still be told, on a page the browser shows rather
    // than a connection closed without an answer, or the page saved under the file's name.
    const from = h.logs.length;
    const upstream = slowFile({ dropAfterBytes: 0 });
    const res = await alice.fetch(`/requests/${key}/attachment/${id}`);
    expect(res.status).to.equal(502);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(res.headers.get('content-disposition'), 'not saved as the file').to.equal(null);
    expect(res.headers.get('content-security-policy'))
      .to.include("frame-ancestors 'none'")
      .and.not.include('sandbox');
    expect(await res.text()).to.include('<html');
    expect((await upstream).sentBytes).to.equal(0);
    expect(reasons(h, from)).to.include('ATLASSIAN_UNREACHABLE');
    expect(reasons(h, from)).to.not.include('PORTAL_INTERNAL');
  });
});
