import type { Server } from 'node:http';
import { expect } from 'chai';
import type { FlowStore } from '../common/flowstore/index.js';
import {
  type BrokerUnderTest,
  type Browser,
  createPki,
  type IdpDoc,
  type Pki,
  serveBroker,
  tenantFor,
  useSigningKey,
} from './broker-harness.js';
import { type KeyPair, makeKeyPair } from './keys.js';
import { type Harness, startHarness } from './portal-harness.js';

/** The real portal and the broker in front of it, both of one tenant whose IdPs are `idps`. */
export interface PortalBehindBroker {
  pki: Pki;
  portal: Harness;
  broker: BrokerUnderTest;
  /** A signed-in page of the portal: 200 while the session lives, 303 to sign-in once it is gone. */
  portalPage(browser: Browser): Promise<number>;
}

/**
 * Starts the portal and serves the broker at `placeholder` (whose URL the IdPs were told), each
 * signing with a key pair of its own that the other trusts. `pki`: one the caller already wrote files
 * into; a new one by default. `store` and `portalStore`: the broker's and the portal's flow stores.
 * `brokerNextKey`: a pair the portal trusts beside the broker's, as during a rotation of its key.
 */
export async function portalBehindBroker(
  placeholder: { server: Server; url: string },
  idps: IdpDoc[],
  options: { pki?: Pki; store?: FlowStore; portalStore?: FlowStore; brokerNextKey?: KeyPair } = {},
): Promise<PortalBehindBroker> {
  const pki = options.pki ?? createPki();
  const brokerPair = makeKeyPair('broker.acme.test');
  const portalPair = makeKeyPair('portal.acme.test');
  useSigningKey(pki, 'broker', brokerPair);
  useSigningKey(pki, 'portal', portalPair);
  const portal = await startHarness({
    brokerKey: brokerPair,
    portalKey: portalPair,
    ...(options.brokerNextKey ? { brokerNextKey: options.brokerNextKey } : {}),
    spec: { broker: { url: placeholder.url }, identityProviders: idps },
    ...(options.portalStore ? { store: options.portalStore } : {}),
  });
  const tenant = tenantFor(placeholder.url, idps, (spec) => {
    spec.portal.url = portal.url;
  });
  const broker = await serveBroker(placeholder.server, placeholder.url, tenant, pki, options.store);
  return {
    pki,
    portal,
    broker,
    async portalPage(browser) {
      const res = await browser.request(`${portal.url}/requests`);
      await res.arrayBuffer();
      if (res.status === 303) expect(res.headers.get('location')).to.match(/^\/login\?return=/);
      return res.status;
    },
  };
}
