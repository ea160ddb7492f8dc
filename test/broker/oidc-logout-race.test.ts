import { expect } from 'chai';
import type { JWK } from 'jose';
import { newSigningKey } from '../../dev/idp/provider.js';
import { brokerReplica } from '../../testkit/broker-harness.js';
import { holdingFirstPortalLogout, RACE_STORES, type RaceStores } from '../../testkit/logout-race.js';
import {
  type OidcLogoutChain,
  signedLogoutToken,
  startOidcLogoutChain,
} from '../../testkit/oidc-logout-chain.js';

const LOGOUT_PATH = '/oidc/backchannel-logout/corporate';

/**
 * Two back-channel logout tokens of an OIDC IdP, with different `jti`, for one session at the same
 * moment, at two broker replicas sharing one store (ADR 0382): one claim of the session's logout, so
 * the portal is asked once, and the other token is answered at once, without a second propagation.
 */
for (const [storeName, stores] of RACE_STORES)
  describe(`broker: an OIDC IdP's two back-channel logout tokens for one session at once, on ${storeName}`, function () {
    this.timeout(60_000);
    let stored: RaceStores;
    let chain: OidcLogoutChain;
    let signingKey: JWK;
    let replica: { url: string; close(): Promise<void> };

    before(async () => {
      stored = await stores();
      signingKey = await newSigningKey();
      chain = await startOidcLogoutChain({
        logoutRegistration: (url) => ({
          backchannel_logout_uri: `${url}${LOGOUT_PATH}`,
          backchannel_logout_session_required: true,
        }),
        idp: { signingKeys: [signingKey] },
        store: stored.broker,
        portalStore: stored.portal.store,
      });
      replica = await brokerReplica(chain.broker, (tenant) => tenant);
    });

    after(async () => {
      await replica?.close();
      await chain?.close();
      await stored?.close();
    });

    /** A logout token the IdP signs for alice's IdP session `sid`, with an ID of its own. */
    const logoutToken = (sid: string) => signedLogoutToken(chain.idp.issuer, signingKey, { sid });

    /** Posts `token` as the IdP does to the broker at `brokerUrl`: its status and JSON error, if any. */
    async function post(brokerUrl: string, token: string): Promise<{ status: number; error?: string }> {
      const answer = await fetch(`${brokerUrl}${LOGOUT_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      const body = await answer.text();
      return { status: answer.status, ...(body ? { error: JSON.parse(body).error } : {}) };
    }

    it('asks the portal once, and answers the second token 400 temporarily_unavailable at once, on another replica; its retry 200 (ADR 0382)', async () => {
      const { browser, sid } = await chain.signedIn();
      const [firstToken, secondToken] = [await logoutToken(sid), await logoutToken(sid)];
      const before = stored.portalLogouts.count();
      const held = holdingFirstPortalLogout(stored.portal);
      const firstAnswer = post(chain.broker.url, firstToken);
      await held.reached;
      const second = await Promise.race([
        post(replica.url, secondToken),
        // Before the fix the second token's logout is itself at the portal, and its mark passes the hold.
        stored.portalLogouts.next().then(() => 'the portal was asked a second time'),
      ]);
      held.release();
      expect(await firstAnswer).to.deep.equal({ status: 200 });
      // Section 2.8 has no "partly": 200 would say a logout succeeded that this token cannot know of.
      expect(second).to.deep.equal({ status: 400, error: 'temporarily_unavailable' });
      expect(stored.portalLogouts.count() - before, 'LogoutRequests the portal acted on').to.equal(1);
      expect(await chain.portalPage(browser), 'her portal session ended').to.equal(303);
      // Its retry, once the first is done, finds the session ended and asks no portal.
      expect(await post(replica.url, secondToken)).to.deep.equal({ status: 200 });
      expect(stored.portalLogouts.count() - before, 'LogoutRequests the portal acted on').to.equal(1);
      const lines = chain.broker.logs.filter((l) => l['event'] === 'broker.backchannel_logout');
      expect(lines.map((l) => l['result'])).to.include.members(['ended', 'already_ending', 'no_session']);
    });
  });
