import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { makeKeyPair } from '../testkit/keys.js';

/**
 * The floor under the broker's CPU per sign-in: `bench/signin-floor-server.ts` in a child process
 * does, per sign-in, only what no Node implementation can leave out — the broker's two inbound
 * HTTP exchanges (the portal's signed request answered with a redirect, the IdP's callback answered
 * with the auto-posting page), its two outbound calls to an HTTPS IdP on kept-alive connections
 * (token, userinfo), one RSA verification each for the request and the ID token, two RSA-2048
 * signatures on the threadpool, and the JSON and base64 work on data of the real sizes. Measured in
 * the same rounds as the broker, its CPU over one raw signature says how far any code could go.
 */
export interface FloorBroker {
  signIns(total: number, concurrency: number): Promise<void>;
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./signin-floor-server.ts', import.meta.url));

export async function startFloorBroker(caPem: string, idpTls: { keyPem: string; certPem: string }) {
  const idpKeys = makeKeyPair('floor idp');
  const portalKeys = makeKeyPair('floor portal');
  const brokerKeys = makeKeyPair('floor broker');
  const idp = await startStaticIdp(idpTls, idpKeys.keyPem);
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      JSM_SSO_FLOOR_CONFIG: JSON.stringify({
        idpUrl: idp.url,
        caPem,
        signingKeyPem: brokerKeys.keyPem,
        portalCertPem: portalKeys.certPem,
        idpCertPem: idpKeys.certPem,
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = `http://127.0.0.1:${await portOf(child)}`;
  // The portal's AuthnRequest as the Redirect binding carries it: ~700 octets deflated, signed.
  const samlRequest = randomBytes(700).toString('base64');
  const signature = sign('sha256', Buffer.from(samlRequest), createPrivateKey(portalKeys.keyPem));
  const ssoUrl = `${base}/sso?${new URLSearchParams({ SAMLRequest: samlRequest, Signature: signature.toString('base64') })}`;
  const signIn = async () => {
    const redirect = await request(ssoUrl);
    await redirect.body.dump();
    if (redirect.statusCode !== 302) throw new Error(`floor broker answered ${redirect.statusCode} at /sso`);
    const page = await request(`${base}/callback?code=${randomBytes(32).toString('base64url')}&state=s`);
    await page.body.text();
    if (page.statusCode !== 200) throw new Error(`floor broker answered ${page.statusCode} at /callback`);
  };
  return {
    async signIns(total: number, concurrency: number) {
      let started = 0;
      const worker = async () => {
        while (started < total) {
          started++;
          await signIn();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    },
    async cpuMs() {
      const answer = await request(`${base}/cpu`);
      return Number(await answer.body.text());
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await idp.close();
    },
  } satisfies FloorBroker;
}

function portOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString('utf8').trim())));
    child.once('exit', (code) => reject(new Error(`floor broker exited with ${code}`)));
  });
}

/** An HTTPS IdP that answers the token and userinfo calls with fixed documents of the usual sizes. */
async function startStaticIdp(tls: { keyPem: string; certPem: string }, signingKeyPem: string) {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'floor', typ: 'JWT' })).toString(
    'base64url',
  );
  const person = { sub: 'floor-person-1', email: 'person@example.test', name: 'Floor Person' };
  const payload = Buffer.from(
    JSON.stringify({
      ...person,
      iss: 'https://idp.example.test',
      aud: 'broker',
      nonce: randomBytes(32).toString('base64url'),
      at_hash: randomBytes(16).toString('base64url'),
      iat: now,
      exp: now + 86_400,
      auth_time: now,
    }),
  ).toString('base64url');
  const jws = sign('sha256', Buffer.from(`${header}.${payload}`), createPrivateKey(signingKeyPem));
  const tokenDocument = JSON.stringify({
    access_token: randomBytes(32).toString('base64url'),
    id_token: `${header}.${payload}.${jws.toString('base64url')}`,
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'openid email profile',
  });
  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/token' ? tokenDocument : JSON.stringify(person));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
