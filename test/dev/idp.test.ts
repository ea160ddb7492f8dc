import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { type DevIdp, loginFormAction, startDevIdp } from '../../dev/idp/provider.js';

const REDIRECT = 'http://127.0.0.1:45678/oidc/callback';

describe('dev IdP login page', () => {
  let idp: DevIdp;
  before(async () => {
    idp = await startDevIdp({
      clients: [
        {
          client_id: 'broker',
          client_secret: 'dev-idp-test-secret-0123456789',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
    });
  });
  after(() => idp.close());

  it('lets its sign-in form redirect on to the registered client (CSP form-action covers the redirect chain)', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const auth = new URL(`${idp.issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: 'broker',
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const start = await fetch(auth, { redirect: 'manual' });
    const location = start.headers.get('location');
    expect(location).to.match(/^\/interaction\//);
    const login = await fetch(new URL(location!, idp.issuer), {
      headers: {
        cookie: start.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; '),
      },
    });
    expect(login.status).to.equal(200);
    const csp = login.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("form-action 'self' http://127.0.0.1:45678;");
  });

  it('allows only the origins of registered redirect URIs, once each', () => {
    expect(
      loginFormAction([
        {
          client_id: 'a',
          redirect_uris: ['https://broker.acme.test/oidc/callback', 'https://broker.acme.test/other'],
        },
        {
          client_id: 'b',
          redirect_uris: ['http://127.0.0.1:8080/cb?x=1', 'javascript:alert(1)', 'not a url'],
        },
        { client_id: 'c' },
      ]),
    ).to.equal("'self' https://broker.acme.test http://127.0.0.1:8080");
  });
});
