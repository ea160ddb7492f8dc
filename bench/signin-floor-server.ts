// The least CPU any Node process must spend on one brokered sign-in (bench/signin-floor.ts): the
// same HTTP exchanges, the same public-key operations and the same amount of data as the broker,
// and nothing else: no XML, no OIDC library, no flow store, no logging, no metrics, no checks
// beyond the signatures. Started by the bench as a child process; its CPU is read at GET /cpu.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';

interface FloorConfig {
  idpUrl: string;
  caPem: string;
  signingKeyPem: string;
  portalCertPem: string;
  idpCertPem: string;
}

const config = JSON.parse(process.env['JSM_SSO_FLOOR_CONFIG']!) as FloorConfig;
const signingKey = createPrivateKey(config.signingKeyPem);
const portalKey = createPublicKey(config.portalCertPem);
const idpKey = createPublicKey(config.idpCertPem);
const agent = new Agent({ connect: { secureContext: createSecureContext({ ca: config.caPem }) } });
const signOnThreadpool = promisify(sign);

function fail(res: ServerResponse, status: number): void {
  res.statusCode = status;
  res.end();
}

/** The portal's signed request: one RSA verification over the query, then a redirect to the IdP. */
function sso(query: URLSearchParams, res: ServerResponse): void {
  const message = query.get('SAMLRequest') ?? '';
  const signature = Buffer.from(query.get('Signature') ?? '', 'base64');
  if (!verify('sha256', Buffer.from(message), portalKey, signature)) {
    fail(res, 400);
    return;
  }
  const state = randomBytes(32).toString('base64url');
  res.statusCode = 302;
  res.setHeader(
    'set-cookie',
    `flow=${randomBytes(32).toString('base64url')}; Path=/; HttpOnly; SameSite=Lax`,
  );
  res.setHeader('location', `${config.idpUrl}/auth?client_id=broker&response_type=code&state=${state}`);
  res.end();
}

/** The IdP's answer: token and userinfo calls, the ID token's signature, two RSA signatures. */
async function callback(query: URLSearchParams, res: ServerResponse): Promise<void> {
  const token = await request(`${config.idpUrl}/token`, {
    dispatcher: agent,
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic YnJva2VyOnNlY3JldA==',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: query.get('code') ?? '' }).toString(),
  });
  const tokens = (await token.body.json()) as { id_token: string; access_token: string };
  const [header, payload, signature] = tokens.id_token.split('.') as [string, string, string];
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), idpKey, Buffer.from(signature, 'base64url'))) {
    fail(res, 400);
    return;
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const userinfo = await request(`${config.idpUrl}/me`, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  const person = (await userinfo.body.json()) as Record<string, unknown>;
  if (person['sub'] !== claims['sub']) {
    fail(res, 400);
    return;
  }
  // A Response of the broker's size (about 4 KB of XML), signed twice: the Assertion, then the Response.
  const assertion = `<Assertion>${JSON.stringify({ ...claims, ...person }).padEnd(2500, ' ')}</Assertion>`;
  const assertionSignature = await signOnThreadpool('sha256', Buffer.from(assertion), signingKey);
  const response = `<Response>${assertion}${assertionSignature.toString('base64')}</Response>`;
  const responseSignature = await signOnThreadpool('sha256', Buffer.from(response), signingKey);
  const encoded = Buffer.from(`${response}${responseSignature.toString('base64')}`).toString('base64');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(
    `<!DOCTYPE html><html><body><form method="post" action="https://portal.example/saml/acs">` +
      `<input type="hidden" name="SAMLResponse" value="${encoded}"></form></body></html>`,
  );
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://floor');
  if (url.pathname === '/sso') sso(url.searchParams, res);
  else if (url.pathname === '/callback') callback(url.searchParams, res).catch(() => fail(res, 502));
  else if (url.pathname === '/cpu') {
    const { user, system } = process.cpuUsage();
    res.end(String((user + system) / 1000));
  } else fail(res, 404);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
