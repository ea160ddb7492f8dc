import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  Browser,
  createPki,
  listenPlaceholder,
  oidcIdp,
  pageReason,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { startFakeOidc } from './fake-oidc.js';

/** Fault injection only: a store with a programming error, which no real Redis can be made to show. */
class BuggyFlowStore extends MemoryFlowStore {
  override async put(): Promise<void> {
    throw new TypeError('secret detail of a bug');
  }
}

describe('broker: an unexpected error', () => {
  it('answers 500 BROKER_INTERNAL with its type in the log and no detail on the page', async () => {
    const pki = createPki();
    const idp = await startFakeOidc('jsm-sso');
    const { server, url } = await listenPlaceholder();
    const broker = await serveBroker(
      server,
      url,
      tenantFor(url, [oidcIdp('corporate', idp.issuer)]),
      pki,
      new BuggyFlowStore(),
    );
    try {
      const page = await new Browser().request(
        await portalSp(url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      const html = await page.text();
      expect(page.status, html).to.equal(500);
      expect(pageReason(html)).to.equal('BROKER_INTERNAL');
      expect(html).to.not.contain('secret detail');
      expect(broker.logs.find((l) => l['event'] === 'broker.unavailable')?.['reason']).to.equal(
        'BROKER_INTERNAL',
      );
      expect(broker.logs.find((l) => l['event'] === 'broker.internal_error')?.['errorType']).to.equal(
        'TypeError',
      );
      expect(JSON.stringify(broker.logs)).to.not.contain('secret detail');
    } finally {
      await broker.close();
      await idp.close();
      pki.cleanup();
    }
  });
});
