import type { AddressInfo } from 'node:net';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  devOAuth2Idp,
  type IdpDoc,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { type FaultProxy, startFaultProxy } from '../../testkit/fault-proxy.js';

/**
 * A real oidc-provider behind a TCP fault proxy (its issuer is the proxy's address, so every call of a
 * sign-in passes it), an OIDC broker and a plain OAuth 2.0 broker against it, on one store and PKI:
 * what the slow-IdP fault tests (per-call deadline, sign-in budget) hold calls of.
 */
export interface SlowIdpBrokers {
  pki: Pki;
  proxy: FaultProxy;
  store: MemoryFlowStore;
  oidc: BrokerUnderTest;
  oauth2: BrokerUnderTest;
  /** The portal's sign-in through `broker`, in a new browser. */
  signIn(broker: BrokerUnderTest): ReturnType<typeof loginThroughBroker>;
  close(): Promise<void>;
}

export async function startSlowIdpBrokers(options: {
  idpTimeoutMs: number;
  signInBudgetMs: number;
  /**
   * How long the IdP keeps an idle connection: a held call's connection must stay open however long
   * the hold, so that only the broker (or the test) ends it, never Node's 5 s idle close.
   */
  idpKeepAliveMs: number;
}): Promise<SlowIdpBrokers> {
  const pki = createPki();
  const store = new MemoryFlowStore();
  const proxy = await startFaultProxy();
  const brokers: BrokerUnderTest[] = [];
  let idp: DevIdp | undefined;
  const close = async () => {
    for (const broker of brokers) await broker.close();
    await idp?.close();
    await proxy.close();
    await store.close();
    pki.cleanup();
  };
  try {
    const [oidcPlace, oauth2Place] = [await listenPlaceholder(), await listenPlaceholder()];
    idp = await startDevIdp({
      clients: [devClient(oidcPlace.url), devClient(oauth2Place.url, { client_id: 'jsm-sso-oauth2' })],
      issuer: proxy.url,
    });
    proxy.target = { host: '127.0.0.1', port: (idp.server.address() as AddressInfo).port };
    idp.server.keepAliveTimeout = options.idpKeepAliveMs;
    const serve = async (place: typeof oidcPlace, entry: IdpDoc) => {
      const broker = await serveBroker(place.server, place.url, tenantFor(place.url, [entry]), pki, store, {
        idpTimeoutMs: options.idpTimeoutMs,
        signInBudgetMs: options.signInBudgetMs,
      });
      brokers.push(broker);
      return broker;
    };
    const oidc = await serve(oidcPlace, oidcIdp('corporate', proxy.url));
    // Plain OAuth 2.0 against the same server: the token call, then its user endpoint.
    const oauth2 = await serve(oauth2Place, devOAuth2Idp(proxy.url, 'jsm-sso-oauth2', { name: 'partner' }));
    const signIn = (broker: BrokerUnderTest) =>
      loginThroughBroker({ portal: portalSp(broker.url, pki), brokerUrl: broker.url }, new Browser());
    return { pki, proxy, store, oidc, oauth2, signIn, close };
  } catch (err) {
    await close();
    throw err;
  }
}
