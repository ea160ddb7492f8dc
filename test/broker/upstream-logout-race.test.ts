import { EventEmitter, once } from 'node:events';
import { expect } from 'chai';
import { type FlowStore, MemoryFlowStore } from '../../common/flowstore/index.js';
import { inflateRedirectPayload } from '../../common/saml/index.js';
import { Browser, brokerReplica, formFields, listenPlaceholder } from '../../testkit/broker-harness.js';
import { type HoldingStore, holdingStore } from '../../testkit/holding-store.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { type PortalBehindBroker, portalBehindBroker } from '../../testkit/portal-behind-broker.js';
import { connectedFlowStore } from '../../testkit/redis.js';
import {
  answeredAtBrokerAcs,
  brokerSpAt,
  idpLogoutRequestUrl,
  STATUS_SUCCESS,
  type UpstreamIdp,
  type UpstreamSp,
  upstreamIdp,
  upstreamSamlIdpDoc,
} from './upstream-saml.js';

const PARTIAL = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';

/** The broker's store and the portal's, each with what closes it. */
type Stores = () => Promise<{ broker: FlowStore; portal: FlowStore; close(): Promise<void> }>;

/** Each on a redis-server of its own test's. */
const onRedis: Stores = async () => {
  const redis: LocalRedis = await startLocalRedis();
  const broker = await connectedFlowStore('acme', redis.url);
  const portal = await connectedFlowStore('portal', redis.url);
  return {
    broker,
    portal,
    close: async () => {
      await broker.close();
      await redis.stop();
    },
  };
};

const inMemory: Stores = async () => ({
  broker: new MemoryFlowStore(),
  portal: new MemoryFlowStore(),
  close: async () => {},
});

/**
 * Two LogoutRequests of the upstream SAML IdP, with different IDs, for one session at the same moment,
 * at two broker replicas sharing one store (ADR 0373): one claim of the session's logout, so the portal
 * is asked once, and the other request is answered at once, without a second propagation.
 */
for (const [storeName, stores] of [
  ['a real Redis', onRedis],
  ['a memory store', inMemory],
] as const)
  describe(`broker: an upstream SAML IdP's two LogoutRequests for one session at once, on ${storeName}`, function () {
    this.timeout(60_000);
    let closeStores: (() => Promise<void>) | undefined;
    let portalStore: HoldingStore;
    let idp: UpstreamIdp;
    let sp: UpstreamSp;
    let parts: PortalBehindBroker;
    let replica: { url: string; close(): Promise<void> };
    /** The broker's LogoutRequests the portal acted on: each marks its ID used in the portal's store. */
    let portalLogouts = 0;
    const marks = new EventEmitter();

    before(async () => {
      const made = await stores();
      closeStores = made.close;
      portalStore = holdingStore(countingMessageMarks(made.portal));
      idp = upstreamIdp();
      parts = await portalBehindBroker(await listenPlaceholder(), [upstreamSamlIdpDoc(idp)], {
        store: made.broker,
        portalStore: portalStore.store,
      });
      replica = await brokerReplica(parts.broker, (tenant) => tenant);
      sp = await brokerSpAt(parts.broker.url);
    });

    after(async () => {
      await replica?.close();
      await parts?.broker.close();
      await parts?.portal.close();
      parts?.pki.cleanup();
      await closeStores?.();
    });

    /** `store` counting the portal's marks of the LogoutRequests it acted on (`saml-message` keys, put once done). */
    function countingMessageMarks(store: FlowStore): FlowStore {
      return new Proxy(store, {
        get(target, name) {
          const value = Reflect.get(target, name);
          if (typeof value !== 'function') return value;
          if (name !== 'put') return value.bind(target);
          return (key: string, ...rest: unknown[]) => {
            if (key.startsWith('saml-message')) {
              portalLogouts += 1;
              marks.emit('mark');
            }
            return value.apply(target, [key, ...rest]);
          };
        },
      });
    }

    /** Carol signs in at the portal through the broker, the IdP naming its session `sessionIndex`. */
    async function signedIn(sessionIndex: string): Promise<Browser> {
      const browser = new Browser();
      const toBroker = await browser.request(`${parts.portal.url}/login`);
      const toIdp = await browser.request(toBroker.headers.get('location')!);
      const page = await answeredAtBrokerAcs(
        { browser, brokerUrl: parts.broker.url, idp },
        toIdp.headers.get('location')!,
        { nameId: 'carol@acme.test', attributes: { email: ['carol@acme.test'] }, sessionIndex },
      );
      const acs = await browser.request(`${parts.portal.url}/saml/acs`, {
        form: formFields(await page.text()),
      });
      expect(acs.status, 'the portal takes the broker Response').to.equal(303);
      expect(await parts.portalPage(browser)).to.equal(200);
      return browser;
    }

    /** The IdP's signed LogoutRequest (an ID of its own) for carol's `sessionIndex`, sent to the broker at `brokerUrl`. */
    async function idpLogout(brokerUrl: string, sessionIndex: string): Promise<string[]> {
      const { url } = idpLogoutRequestUrl(idp, sp, { nameId: 'carol@acme.test', sessionIndex });
      const answer = await fetch(`${brokerUrl}/saml/slo${new URL(url).search}`, { redirect: 'manual' });
      expect(answer.status, await answer.clone().text()).to.equal(302);
      const response = new URL(answer.headers.get('location')!).searchParams.get('SAMLResponse')!;
      return [...inflateRedirectPayload(response).matchAll(/StatusCode Value="([^"]+)"/g)].map((m) => m[1]!);
    }

    it('asks the portal once, and answers the second request PartialLogout at once, on another replica (ADR 0373)', async () => {
      const browser = await signedIn('_race-1');
      const before = portalLogouts;
      // The first request's exchange with the portal is held once the portal ended its session, before
      // it marks the request's ID used: the broker session is not ended yet when the second comes.
      let first = true;
      const held = portalStore.hold((command, key) => {
        const match = first && command === 'put' && key.startsWith('saml-message');
        if (match) first = false;
        return match;
      });
      const firstAnswer = idpLogout(parts.broker.url, '_race-1');
      await held.reached;
      const second = await Promise.race([
        idpLogout(replica.url, '_race-1'),
        // Before the fix the second request is itself at the portal, and its mark passes the hold.
        once(marks, 'mark').then(() => 'the portal was asked a second time'),
      ]);
      held.release();
      expect(await firstAnswer).to.deep.equal([STATUS_SUCCESS]);
      expect(second).to.deep.equal([STATUS_SUCCESS, PARTIAL]);
      expect(portalLogouts - before, 'LogoutRequests the portal acted on').to.equal(1);
      expect(await parts.portalPage(browser), 'her portal session ended').to.equal(303);
      expect(
        parts.broker.logs.filter((l) => l['event'] === 'broker.logout' && l['cause'] === 'already_ending'),
      ).to.have.length.greaterThan(0);
    });
  });
