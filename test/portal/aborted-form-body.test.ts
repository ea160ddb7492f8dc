// A client that sends half a form and resets the connection while the portal is still on the checks it
// makes before reading the body (the session, read from the store): once the connection is gone,
// body-parser calls the request "already parsed" and let it through with no body, so the route ran on
// an empty form, judged as a form without its token: a customer's expired form (PORTAL_CSRF, a
// refusal). The portal stops the request there instead (ADR 0406): no route, no write, noted as the
// client gone (PORTAL_CLIENT_ABORTED, jsm_sso_portal_client_aborts_total), as an upload already was.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { eventually } from '../../testkit/envtest.js';
import { holdingStore } from '../../testkit/holding-store.js';
import { csrfOf, type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

const PRINTER = 'Printer on 3rd floor jams every morning';

async function clientAborts(h: Harness): Promise<number> {
  const metric = await h.registry.getSingleMetric('jsm_sso_portal_client_aborts_total')?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

describe('portal: a form body the client abandons before the portal reads it', () => {
  const held = holdingStore(new MemoryFlowStore());
  let h: Harness;
  before(async () => {
    h = await startHarness({ store: held.store });
  });
  after(() => h.close());

  it('runs no route, writes nothing, and notes PORTAL_CLIENT_ABORTED, not an expired form', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf(PRINTER);
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const cookie = [...alice.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const writesBefore = h.exchanges.filter((e) => e.method !== 'GET').length;
    const abortsBefore = await clientAborts(h);
    const from = h.logs.length;

    // The session's read waits until the client is gone.
    const hold = held.hold((command, storeKey) => command === 'get' && storeKey.includes(':session:'));
    const arrived = once(h.server, 'request') as Promise<[IncomingMessage]>;
    const { host, port } = new URL(h.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    const form = `_csrf=${encodeURIComponent(token)}&body=${encodeURIComponent('Half a comment')}`;
    socket.write(
      `POST /requests/${key}/comment HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${h.url}\r\nCookie: ${cookie}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length + 100}\r\n\r\n${form}`,
    );
    const [req] = await arrived;
    await hold.reached;
    // Gone when the portal sees its connection closed (`once` would take the request's 'aborted' error).
    const closed = new Promise((resolve) => req.once('close', resolve));
    socket.resetAndDestroy();
    await closed;
    hold.release();

    await eventually(async () => reasons(h, from).length > 0, 'the portal judging the abandoned request');
    expect(reasons(h, from)).to.deep.equal(['PORTAL_CLIENT_ABORTED']);
    expect(await clientAborts(h), 'jsm_sso_portal_client_aborts_total').to.equal(abortsBefore + 1);
    expect(h.exchanges.filter((e) => e.method !== 'GET').length, 'writes to Atlassian').to.equal(
      writesBefore,
    );
  });
});
