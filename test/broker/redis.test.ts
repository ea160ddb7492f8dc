import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { managementHandler } from '../../common/http/management.js';
import { startDevIdp } from '../../dev/idp/provider.js';
import { DEV_USERS } from '../../dev/idp/users.js';
import {
  Browser,
  createPki,
  devClient,
  formFields,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  PORTAL_URL,
  portalSp,
  serveBroker,
  startStack,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalRedis } from '../../testkit/local-redis.js';
import { connectedFlowStore, redisUrl } from '../../testkit/redis.js';
import { startTwoIdpBroker } from './fake-oidc.js';

describe('broker: shared state in Redis', () => {
  it('keeps nothing from the IdP at rest: no token, e-mail or name in Redis after sign-ins', async () => {
    const prefix = `broker-rest-${Date.now()}`;
    const store = await connectedFlowStore(prefix);
    const stack = await startStack(store);
    const { portal } = stack;
    const url = stack.broker.url;
    const redis = new Redis(redisUrl());
    try {
      for (const email of ['alice@acme.test', 'bob@acme.test']) {
        const { fields } = await loginThroughBroker({ portal, brokerUrl: url }, new Browser(), { email });
        const { profile } = await portal.validatePostResponseAsync(fields);
        expect(profile?.nameID).to.equal(email);
      }
      // A third sign-in left half-way (at the IdP's login page) keeps its flow in the store too: with
      // what the broker must check the IdP's answer against (PKCE verifier, nonce), sealed.
      const halfway = new Browser();
      const toIdp = await halfway.request(await portal.getAuthorizeUrlAsync('rs-open', undefined, {}));
      const authorize = new URL(toIdp.headers.get('location')!);
      const nonce = authorize.searchParams.get('nonce');
      expect(nonce, 'the broker sends the IdP a nonce').to.be.a('string');
      const keys = await redis.keys(`*${prefix}*`);
      expect(keys.length, 'the broker kept its sessions and markers in Redis').to.be.greaterThan(3);
      const stored = [...keys, ...((await redis.mget(...keys)).filter((v) => v !== null) as string[])].join(
        '\n',
      );
      for (const person of DEV_USERS) {
        // Whole values only: a 3-letter given name could turn up by chance inside a random token.
        for (const value of [person.email, `${person.givenName} ${person.familyName}`]) {
          expect(stored, `found ${value} at rest`).to.not.include(value);
        }
      }
      // No JWT (ID token) and no OAuth token field names.
      expect(stored).to.not.match(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/);
      expect(stored).to.not.match(/id_?token|access_?token|refresh_?token/i);
      expect(stored, 'the PKCE verifier').to.not.match(/code_?verifier/i);
      expect(stored, "the half-way flow's nonce").to.not.include(nonce);
    } finally {
      redis.disconnect();
      await stack.close();
      await store.close();
    }
  });

  it("keeps neither a flow's cookie nor its choice form's token at rest: a dump neither chooses for a sign-in nor finishes it", async () => {
    const prefix = `broker-bearer-${Date.now()}`;
    const store = await connectedFlowStore(prefix);
    const stack = await startTwoIdpBroker({}, undefined, {}, store);
    const { broker, idpA } = stack;
    const redis = new Redis(redisUrl());
    /** Every key (its last part, the id it names) and every value, and each string inside a JSON value. */
    const dump = async () => {
      const keys = await redis.keys(`*${prefix}*`);
      const values = (await redis.mget(...keys)).filter((v) => v !== null) as string[];
      const inside = values.flatMap((v) => {
        try {
          return Object.values(JSON.parse(v) as object).filter((f) => typeof f === 'string');
        } catch {
          return [];
        }
      });
      return { keys, ids: keys.map((k) => k.split(':').pop()!), values, strings: [...values, ...inside] };
    };
    const brokerHost = new URL(broker.url).hostname;
    try {
      const victim = new Browser();
      const choice = await victim.request(
        await portalSp(broker.url, stack.pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      expect(choice.status).to.equal(200);
      const { csrf } = formFields(await choice.text());
      const [cookieName, flowCookie] = [...victim.cookies.get(brokerHost)!][0]!;
      const atChoice = await dump();
      const held = (secret: string, found: string[]) => found.filter((f) => f.includes(secret));
      expect(held(flowCookie, [...atChoice.keys, ...atChoice.values]), 'the flow cookie').to.deep.equal([]);
      expect(held(csrf!, atChoice.values), "the choice form's token").to.deep.equal([]);
      // Whatever the dump holds, tried as the cookie and the token of the victim's choice form.
      for (const id of atChoice.ids) {
        for (const token of atChoice.strings) {
          const thief = new Browser();
          thief.cookies.set(brokerHost, new Map([[cookieName, id]]));
          const chosen = await thief.request(`${broker.url}/saml/choose`, {
            form: { csrf: token, idp: 'alpha' },
          });
          await chosen.arrayBuffer();
          expect(chosen.status, `cookie ${id}`).to.be.oneOf([400, 403]);
        }
      }
      const toIdp = await victim.request(`${broker.url}/saml/choose`, {
        form: { csrf: csrf!, idp: 'alpha' },
      });
      expect(toIdp.status).to.equal(303);
      const authorize = new URL(toIdp.headers.get('location')!);
      await fetch(authorize);
      const state = authorize.searchParams.get('state')!;
      const atIdp = await dump();
      expect(held(flowCookie, [...atIdp.keys, ...atIdp.values]), 'the flow cookie').to.deep.equal([]);
      // The victim's answer from the IdP (code and state) reaches a thief, who sends it with the flow
      // the state's index names as the cookie: the browser binding must hold against the dump.
      const index = atIdp.keys.findIndex((k) => k.includes(':state:'));
      expect(index, 'the state index').to.be.greaterThan(-1);
      const thief = new Browser();
      thief.cookies.set(brokerHost, new Map([[cookieName, atIdp.values[index]!]]));
      idpA.forgery = 'valid';
      const finished = await thief.request(
        `${broker.url}/oidc/callback/alpha?code=${state}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
      );
      expect(finished.status).to.equal(403);
      expect(await finished.text()).to.contain('FLOW_BROWSER_MISMATCH');
    } finally {
      redis.disconnect();
      await stack.close();
      await store.close();
    }
  });

  it("answers 400 OIDC_CODE_INVALID, not 502, for a used code presented with another flow's state", async () => {
    const stack = await startStack();
    const { portal, idp, broker } = stack;
    const url = broker.url;
    try {
      const first = await loginThroughBroker({ portal, brokerUrl: url }, new Browser());
      const usedCode = new URL(first.callbackUrl).searchParams.get('code')!;
      const browser = new Browser();
      const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-2', undefined, {}));
      const otherState = new URL(sso.headers.get('location')!).searchParams.get('state')!;
      const response = await browser.request(
        `${url}/oidc/callback?code=${usedCode}&state=${otherState}&iss=${encodeURIComponent(idp.issuer)}`,
      );
      expect(response.status).to.equal(400);
      expect(await response.text()).to.contain('OIDC_CODE_INVALID');
      expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
        result: 'refused',
        reason: 'OIDC_CODE_INVALID',
      });
    } finally {
      await stack.close();
    }
  });

  it('signs in once when the same callback arrives twice at the same moment (state taken atomically in Redis)', async () => {
    const store = await connectedFlowStore(`broker-race-${Date.now()}`);
    const stack = await startStack(store);
    const { portal, broker } = stack;
    try {
      const browser = new Browser();
      const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-race', undefined, {}));
      const callback = `${broker.url}/oidc/callback`;
      const loginPage = (await browser.follow(sso.headers.get('location')!, callback)).response!;
      const action = /action="([^"]+)"/.exec(await loginPage.text())![1]!;
      const back = await browser.follow(new URL(action, loginPage.url).href, callback, {
        form: { email: 'alice@acme.test', password: 'demo' },
      });
      const answers = await Promise.all([0, 1, 2, 3].map(() => browser.request(back.location!)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).to.deep.equal([200, 400, 400, 400]);
      const bodies = await Promise.all(answers.map((a) => a.text()));
      expect(bodies.filter((b) => b.includes('name="SAMLResponse"'))).to.have.length(1);
      expect(bodies.filter((b) => b.includes('OIDC_STATE_REPLAYED'))).to.have.length(3);
      expect(
        broker.logs.filter((l) => l['event'] === 'broker.login' && l['result'] === 'success'),
      ).to.have.length(1);
    } finally {
      await stack.close();
      await store.close();
    }
  });

  it('completes on a second broker process a login started on the first, and refuses the replayed callback', async () => {
    const pki = createPki();
    const a = await listenPlaceholder();
    const b = await listenPlaceholder();
    const idp = await startDevIdp({ clients: [devClient(a.url)] });
    const tenant = tenantFor(a.url, [oidcIdp('corporate', idp.issuer)]);
    const prefix = `broker-test-${Date.now()}`;
    const storeA = await connectedFlowStore(prefix);
    const storeB = await connectedFlowStore(prefix);
    const brokerA = await serveBroker(a.server, a.url, tenant, pki, storeA);
    const brokerB = await serveBroker(b.server, b.url, tenant, pki, storeB);
    try {
      const portal = portalSp(a.url, pki);
      const browser = new Browser();
      const { page, fields, callbackUrl } = await loginThroughBroker(
        { portal, brokerUrl: a.url, callbackVia: b.url },
        browser,
      );
      expect(page.status).to.equal(200);
      const { profile } = await portal.validatePostResponseAsync(fields);
      expect(profile?.nameID).to.equal('alice@acme.test');
      expect(brokerB.logs.some((l) => l['event'] === 'broker.login' && l['result'] === 'success')).to.equal(
        true,
      );

      // Replaying the IdP's callback (same state and code) on the other replica is refused.
      const replay = await browser.request(callbackUrl);
      expect(replay.status).to.equal(400);
      const refusal = await replay.text();
      expect(refusal).to.contain('OIDC_STATE_REPLAYED');
      // No dead end: the refusal links back to the help center, where signing in starts again.
      expect(refusal).to.contain(`<a href="${PORTAL_URL}/">Back to Acme Help Center</a>`);
      expect(brokerA.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
        'OIDC_STATE_REPLAYED',
      );
    } finally {
      await brokerA.close();
      await brokerB.close();
      await storeA.close();
      await storeB.close();
      await idp.close();
      pki.cleanup();
    }
  });

  it('answers 503 with a readable page while Redis is down, fails /readyz, and recovers by itself', async () => {
    const redis = await startLocalRedis();
    const store = await connectedFlowStore('broker-down', redis.url);
    const stack = await startStack(store);
    const { broker, portal } = stack;
    const readyz = async () => {
      let status = 0;
      const res = {
        statusCode: 0,
        setHeader() {},
        hasHeader: () => false,
        end() {
          status = this.statusCode;
        },
      };
      // What /readyz asks of a broker: its flow store answers (partReadiness), then its own checks.
      const ready = async () => {
        await store.ping();
        await broker.app.ready();
      };
      await managementHandler({ registry: broker.context.registry, ready })(
        { method: 'GET', url: '/readyz' } as unknown as IncomingMessage,
        res as unknown as ServerResponse,
      );
      return status;
    };
    try {
      expect(await readyz()).to.equal(200);
      await redis.stop();
      const down = await fetch(await portal.getAuthorizeUrlAsync('rs', undefined, {}), {
        redirect: 'manual',
      });
      expect(down.status).to.equal(503);
      expect(await down.text()).to.contain('temporarily unavailable');
      expect(await readyz()).to.equal(503);
      const again = await startLocalRedis([], redis.port);
      try {
        // Recovered by itself: a sign-in goes through again once the store has reconnected.
        await eventually(
          async () =>
            (await fetch(await portal.getAuthorizeUrlAsync('rs', undefined, {}), { redirect: 'manual' }))
              .status === 302,
          'a sign-in redirected again after Redis came back',
          10_000,
        );
        expect(await readyz()).to.equal(200);
      } finally {
        await again.stop();
      }
    } finally {
      await stack.close();
      await store.close();
    }
  });
});
