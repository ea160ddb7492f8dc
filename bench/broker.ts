import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { BrokerState } from '../broker/flows.js';
import { issueSignedResponse } from '../broker/saml/issue-response.js';
import { loadSigningCredential } from '../broker/saml/signature.js';
import { MemoryFlowStore } from '../common/flowstore/index.js';
import { Browser, createPki, loginThroughBroker, startStack } from '../test/broker/harness.js';

/** Broker figures for `npm run bench`: issuance speed against raw RSA, full logins, memory. */
export async function benchBroker(): Promise<Record<string, number | string>> {
  const pki = createPki();
  const credential = loadSigningCredential(pki.brokerKey, pki.brokerCert);
  const key = createPrivateKey(pki.brokerKey);
  const rate = (fn: () => void, ms = 2000) => {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) {
      fn();
      n++;
    }
    return (n * 1000) / ms;
  };
  const data = randomBytes(256);
  const rawSigns = rate(() => sign('sha256', data, key));
  const responses = rate(() =>
    issueSignedResponse(credential, {
      issuer: 'https://b/saml/metadata',
      audience: 'https://p/saml/metadata',
      acsUrl: 'https://p/saml/acs',
      inResponseTo: '_r',
      nameId: 'alice@acme.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      attributes: [
        { name: 'email', values: ['alice@acme.test'] },
        { name: 'groups', values: ['a', 'b'] },
      ],
      sessionIndex: '_s',
      authnInstant: new Date(),
      now: new Date(),
      lifetimeSeconds: 300,
    }),
  );
  pki.cleanup();

  const stack = await startStack();
  const latencies: number[] = [];
  const started = Date.now();
  const logins = 40;
  for (let i = 0; i < logins; i++) {
    const t = performance.now();
    await loginThroughBroker({ portal: stack.portal, brokerUrl: stack.broker.url }, new Browser());
    latencies.push(performance.now() - t);
  }
  const loginsPerSecond = (logins * 1000) / (Date.now() - started);
  await stack.close();
  latencies.sort((a, b) => a - b);

  const store = new MemoryFlowStore();
  const state = new BrokerState(store, 600, 28800);
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 10_000; i++) {
    await state.startFlow({
      requestId: `_${randomBytes(16).toString('hex')}`,
      relayState: 'rs',
      forceAuthn: false,
      csrf: randomBytes(24).toString('base64url'),
      startedAt: Date.now(),
    });
  }
  const rssWithFlows = process.memoryUsage().rss;
  await store.close();
  return {
    'broker.raw_rsa2048_signs_per_s': Math.round(rawSigns),
    'broker.signed_responses_per_s': Math.round(responses),
    'broker.responses_to_raw_sign_ratio': Number((responses / rawSigns).toFixed(3)),
    'broker.full_logins_per_s_1_process_sequential': Number(loginsPerSecond.toFixed(1)),
    'broker.full_login_p50_ms_including_idp': Number(latencies[Math.floor(logins / 2)]!.toFixed(1)),
    'broker.full_login_p99_ms_including_idp': Number(latencies[logins - 1]!.toFixed(1)),
    'broker.rss_mb_with_10000_flows_memory_store': Math.round(rssWithFlows / 1e6),
    'broker.rss_mb_delta_10000_flows': Math.round((rssWithFlows - before) / 1e6),
    'broker.two_process_logins': 'not measured (see broker/README.md)',
  };
}
