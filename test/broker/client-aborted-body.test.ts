// A client that goes away in the middle of a form body (a phone losing signal, or anyone on purpose)
// is no fault of the broker's: it was logged as broker.internal_error (level error, with frames) and
// counted as a 5xx BROKER_INTERNAL; it is a refusal, HTTP_CLIENT_ABORTED (ADR 0229).
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import {
  type BrokerUnderTest,
  createPki,
  listenPlaceholder,
  type Pki,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { upstreamSamlIdpDoc } from './upstream-saml.js';

describe('broker: a form body cut short by the client', () => {
  let pki: Pki;
  let broker: BrokerUnderTest;
  let server: Server;
  before(async () => {
    pki = createPki();
    const placeholder = await listenPlaceholder();
    server = placeholder.server;
    const { url } = placeholder;
    broker = await serveBroker(server, url, tenantFor(url, [upstreamSamlIdpDoc()]), pki);
  });
  after(async () => {
    await broker.close();
    pki.cleanup();
  });

  for (const path of ['/saml/sso', '/saml/choose', '/saml/acs']) {
    it(`refuses a POST to ${path} abandoned mid-body as HTTP_CLIENT_ABORTED, no internal error`, async () => {
      const from = broker.logs.length;
      const { port } = new URL(broker.url);
      const arrived = new Promise((resolve) => server.once('request', resolve));
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nSAMLRequest=abc`,
      );
      // The client leaves once the broker has the request's head (and is reading its body).
      await arrived;
      socket.destroy();
      // Until the broker has judged the request: its refusal, or (before) its internal error.
      await eventually(
        async () =>
          broker.logs
            .slice(from)
            .some((l) => l['reason'] === 'HTTP_CLIENT_ABORTED' || l['level'] === 'error'),
        'the broker answering the abandoned request',
      );
      const lines = broker.logs.slice(from);
      const errors = lines.filter((l) => l['level'] === 'error' || l['level'] === 50);
      const metric = await broker.context.registry.getSingleMetric('jsm_sso_broker_errors_total')?.get();
      const internal = metric?.values.find((v) => v.labels['reason'] === 'BROKER_INTERNAL')?.value ?? 0;
      expect(errors, JSON.stringify(errors)).to.deep.equal([]);
      expect(internal, 'jsm_sso_broker_errors_total{reason=BROKER_INTERNAL}').to.equal(0);
      expect(lines.map((l) => l['reason'])).to.include('HTTP_CLIENT_ABORTED');
    });
  }
});
