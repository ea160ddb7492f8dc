import { expect } from 'chai';
import { inflateRedirectPayload } from '../../common/saml/index.js';
import { Browser, brokerReplica, formFields, listenPlaceholder } from '../../testkit/broker-harness.js';
import { holdingFirstPortalLogout, RACE_STORES, type RaceStores } from '../../testkit/logout-race.js';
import { type PortalBehindBroker, portalBehindBroker } from '../../testkit/portal-behind-broker.js';
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

/**
 * Two LogoutRequests of the upstream SAML IdP, with different IDs, for one session at the same moment,
 * at two broker replicas sharing one store (ADR 0373): one claim of the session's logout, so the portal
 * is asked once, and the other request is answered at once, without a second propagation.
 */
for (const [storeName, stores] of RACE_STORES)
  describe(`broker: an upstream SAML IdP's two LogoutRequests for one session at once, on ${storeName}`, function () {
    this.timeout(60_000);
    let stored: RaceStores;
    let idp: UpstreamIdp;
    let sp: UpstreamSp;
    let parts: PortalBehindBroker;
    let replica: { url: string; close(): Promise<void> };

    before(async () => {
      stored = await stores();
      idp = upstreamIdp();
      parts = await portalBehindBroker(await listenPlaceholder(), [upstreamSamlIdpDoc(idp)], {
        store: stored.broker,
        portalStore: stored.portal.store,
      });
      replica = await brokerReplica(parts.broker, (tenant) => tenant);
      sp = await brokerSpAt(parts.broker.url);
    });

    after(async () => {
      await replica?.close();
      await parts?.broker.close();
      await parts?.portal.close();
      parts?.pki.cleanup();
      await stored?.close();
    });

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
      const before = stored.portalLogouts.count();
      const held = holdingFirstPortalLogout(stored.portal);
      const firstAnswer = idpLogout(parts.broker.url, '_race-1');
      await held.reached;
      const second = await Promise.race([
        idpLogout(replica.url, '_race-1'),
        // Before the fix the second request is itself at the portal, and its mark passes the hold.
        stored.portalLogouts.next().then(() => 'the portal was asked a second time'),
      ]);
      held.release();
      expect(await firstAnswer).to.deep.equal([STATUS_SUCCESS]);
      expect(second).to.deep.equal([STATUS_SUCCESS, PARTIAL]);
      expect(stored.portalLogouts.count() - before, 'LogoutRequests the portal acted on').to.equal(1);
      expect(await parts.portalPage(browser), 'her portal session ended').to.equal(303);
      expect(
        parts.broker.logs.filter((l) => l['event'] === 'broker.logout' && l['cause'] === 'already_ending'),
      ).to.have.length.greaterThan(0);
    });
  });
