import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { type DevIdp, loginFormAction, startDevIdp } from '../../dev/idp/provider.js';
import { eventually } from '../../testkit/envtest.js';
import { exited, jsmSso } from '../../testkit/part-process.js';

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

  /** The sign-in page the broker's authorization request (with these extra parameters) leads to. */
  async function loginPage(extra: Record<string, string> = {}): Promise<Response> {
    const verifier = randomBytes(32).toString('base64url');
    const auth = new URL(`${idp.issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: 'broker',
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
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
    return login;
  }

  it('lets its sign-in form redirect on to the registered client (CSP form-action covers the redirect chain)', async () => {
    const csp = (await loginPage()).headers.get('content-security-policy') ?? '';
    expect(csp).to.include("form-action 'self' http://127.0.0.1:45678;");
  });

  it("fills in the e-mail of the broker's login_hint, escaped, and asks for the password first", async () => {
    const page = await (await loginPage({ login_hint: 'alice@acme.test' })).text();
    expect(page).to.include(
      'name="email" type="email" autocomplete="username" required value="alice@acme.test"',
    );
    expect(page).to.match(/name="password"[^>]*autofocus/);
    const hostile = await (await loginPage({ login_hint: '"><script>alert(1)</script>' })).text();
    expect(hostile).to.not.include('<script>alert(1)');
    expect(await (await loginPage()).text()).to.match(/name="email"[^>]*required autofocus>/);
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
    ).to.deep.equal(['https://broker.acme.test', 'http://127.0.0.1:8080']);
  });
});

describe('dev IdP start', () => {
  it('answers every request from the moment it accepts connections (none is left hanging while it starts)', async () => {
    const port = await freePort();
    const child = jsmSso(['dev', 'idp', '--port', String(port)]);
    const done = exited(child);
    const outcomes: string[] = [];
    try {
      // Knock as fast as possible from the moment of spawn: each attempt is refused or answered. Bounded
      // by time, not by a count of knocks (2000 were about 15 s here, and the start took 5.3 s in CI at load 16).
      const giveUpAt = Date.now() + 45_000;
      while (Date.now() < giveUpAt && !outcomes.includes('200')) {
        const outcome = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`, {
          signal: AbortSignal.timeout(10_000),
        }).then(
          (res) => String(res.status),
          (err: Error) => {
            const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
            return err.name === 'TimeoutError' ? 'hung' : (cause ?? err.name);
          },
        );
        if (outcomes.at(-1) !== outcome) outcomes.push(outcome);
        if (outcome === 'ECONNREFUSED') await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      child.kill('SIGTERM');
      await done;
    }
    expect(outcomes.filter((o) => o !== 'ECONNREFUSED')).to.deep.equal(['200']);
  });

  it("takes a client secret that starts with '-' (npm start's random base64url secret does one time in 64)", async () => {
    const port = await freePort();
    const child = jsmSso(['dev', 'idp', '--port', String(port), '--client-secret=-Zx9_random-secret']);
    const done = exited(child);
    try {
      await eventually(
        async () => (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).status === 200,
        'the IdP started and serving its discovery document',
        45_000,
      );
    } finally {
      child.kill('SIGTERM');
      await done;
    }
  });
});
