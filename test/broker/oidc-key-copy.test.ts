// When the broker reads an OIDC IdP's JWKS again, and what serves when it cannot (ADR 0151): the
// answer's Cache-Control max-age, within bounds, decides when a withdrawn key stops verifying; a
// failed read leaves the last copy serving for a bounded grace, told once per change of state. A
// real HTTP server serves the JWKS and jose signs real tokens; only the clock is the test's, since
// minutes and days cannot pass in a test.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { KEY_READ_RETRY_MS } from '../../broker/backends/key-copy-reads.js';
import {
  freshnessOf,
  KEYS_MAX_FRESH_MS,
  KEYS_MIN_FRESH_MS,
  KEYS_STALE_GRACE_MS,
} from '../../broker/backends/oidc-key-copy.js';
import {
  type IdTokenSignatureCheck,
  idpSigningKeys,
  idTokenSignatureCheck,
} from '../../broker/backends/oidc-signing-keys.js';
import { JsmSsoError } from '../../common/errors.js';
import { closeServer } from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';

interface SigningKey {
  kid: string;
  publicJwk: JWK;
  sign(): Promise<string>;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    publicJwk,
    sign: () =>
      new CompactSign(new TextEncoder().encode('{"sub":"alice"}'))
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(privateKey),
  };
}

describe('broker: the OIDC IdP’s keys are read again when they should be', () => {
  let server: Server;
  let jwksUri: URL;
  /** What the JWKS endpoint answers now: keys (with this Cache-Control), or an HTTP status. */
  let published: SigningKey[] | number;
  let cacheControl: string | undefined;
  let reads: number;
  let failedReads: number;
  let clock: number;
  let logs: Array<Record<string, unknown>>;
  let check: IdTokenSignatureCheck;
  let k1: SigningKey;
  let k2: SigningKey;

  before(async () => {
    [k1, k2] = await Promise.all([signingKey('k1'), signingKey('k2')]);
    server = createServer((_req, res) => {
      reads++;
      if (typeof published === 'number') return void res.writeHead(published).end();
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(cacheControl === undefined ? {} : { 'cache-control': cacheControl }),
      });
      res.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
  });
  after(() => closeServer(server));
  beforeEach(() => {
    reads = 0;
    failedReads = 0;
    cacheControl = undefined;
    clock = Date.parse('2026-12-03T12:00:00Z');
    const captured = capturedLogger({ component: 'broker', tenant: 'acme' });
    logs = captured.logs;
    const keys = idpSigningKeys({
      idp: 'corporate',
      jwksUri,
      fetch,
      timeoutMs: 5000,
      now: () => new Date(clock),
      logger: captured.logger,
      countFailedRead: () => failedReads++,
    });
    check = idTokenSignatureCheck(keys, 'RS256');
  });

  /** The check's answer for a token `key` signs: 'verified', or the refusal's reason code. */
  const verdict = async (key: SigningKey) =>
    check(await key.sign()).then(
      () => 'verified',
      (err: unknown) => (err instanceof JsmSsoError ? err.code : String(err)),
    );
  const stateLines = () => logs.filter((l) => String(l['event']).startsWith('broker.idp_keys_'));

  it("refuses a token signed by a key the IdP withdrew once the copy's Cache-Control max-age has passed", async () => {
    published = [k1, k2];
    cacheControl = 'public, max-age=120';
    expect(await verdict(k1)).to.equal('verified');
    published = [k2];
    clock += 120_000 - 1;
    // The copy in hand is still fresh: the withdrawal is not known yet.
    expect(await verdict(k1)).to.equal('verified');
    expect(reads).to.equal(1);
    clock += 1;
    expect(await verdict(k1)).to.equal('OIDC_ID_TOKEN_KEY_UNKNOWN');
    expect(await verdict(k2)).to.equal('verified');
  });

  it('reads again no sooner than a minute when the IdP says no-cache, and no later than five minutes when it says a day', async () => {
    published = [k1];
    cacheControl = 'no-cache';
    await verdict(k1);
    clock += KEYS_MIN_FRESH_MS - 1;
    await verdict(k1);
    expect(reads).to.equal(1);
    clock += 1;
    cacheControl = 'max-age=86400';
    await verdict(k1);
    expect(reads).to.equal(2);
    clock += KEYS_MAX_FRESH_MS - 1;
    await verdict(k1);
    expect(reads).to.equal(2);
    clock += 1;
    await verdict(k1);
    expect(reads).to.equal(3);
  });

  it("reads the answer's freshness from max-age less Age, within the bounds", () => {
    const freshness = (headers: Record<string, string>) => freshnessOf(new Headers(headers));
    expect(freshness({})).to.equal(KEYS_MAX_FRESH_MS);
    expect(freshness({ 'cache-control': 'max-age=180' })).to.equal(180_000);
    expect(freshness({ 'cache-control': 'public, Max-Age="180", must-revalidate' })).to.equal(180_000);
    expect(freshness({ 'cache-control': 'max-age=180', age: '150' })).to.equal(KEYS_MIN_FRESH_MS);
    expect(freshness({ 'cache-control': 'max-age=240', age: '60' })).to.equal(180_000);
    expect(freshness({ 'cache-control': 'max-age=600, no-store' })).to.equal(KEYS_MIN_FRESH_MS);
    // s-maxage is for shared caches; the broker is not one.
    expect(freshness({ 'cache-control': 's-maxage=90' })).to.equal(KEYS_MAX_FRESH_MS);
    expect(freshness({ 'cache-control': 'max-age=ten' })).to.equal(KEYS_MAX_FRESH_MS);
  });

  it('keeps verifying with the last keys read while the JWKS endpoint fails, for a day, telling it once', async () => {
    published = [k1];
    expect(await verdict(k1)).to.equal('verified');
    published = 503;
    clock += KEYS_MAX_FRESH_MS;
    // Due: the read fails, the copy in hand serves.
    expect(await verdict(k1)).to.equal('verified');
    expect(reads).to.equal(2);
    // Later sign-ins do not wait for the failing endpoint: a read is tried once a minute.
    for (let i = 0; i < 5; i++) expect(await verdict(k1)).to.equal('verified');
    expect(reads).to.equal(2);
    clock += KEY_READ_RETRY_MS;
    expect(await verdict(k1)).to.equal('verified');
    await until(() => failedReads === 2);
    expect(reads).to.equal(3);
    expect(stateLines().map((l) => [l['event'], l['keys'], l['reason']])).to.deep.equal([
      ['broker.idp_keys_stale', 'oidc_jwks', 'OIDC_IDP_UNAVAILABLE'],
    ]);
    // The grace counts from the last read that worked: after it, nothing serves.
    clock = Date.parse('2026-12-03T12:00:00Z') + KEYS_STALE_GRACE_MS;
    expect(await verdict(k1)).to.equal('OIDC_IDP_UNAVAILABLE');
    published = [k2];
    expect(await verdict(k2)).to.equal('verified');
    expect(await verdict(k1)).to.equal('OIDC_ID_TOKEN_KEY_UNKNOWN');
    expect(stateLines().map((l) => [l['event'], l['reason'] ?? l['was']])).to.deep.equal([
      ['broker.idp_keys_stale', 'OIDC_IDP_UNAVAILABLE'],
      ['broker.idp_keys_unusable', 'OIDC_IDP_UNAVAILABLE'],
      ['broker.idp_keys_recovered', 'unusable'],
    ]);
  });

  it('takes a copy read in the background, once the endpoint answers again, and says so once', async () => {
    published = [k1];
    await verdict(k1);
    published = 503;
    clock += KEYS_MAX_FRESH_MS;
    await verdict(k1);
    published = [k2];
    clock += KEY_READ_RETRY_MS;
    // The retry runs behind this sign-in, which the stale copy serves.
    expect(await verdict(k1)).to.equal('verified');
    await until(() => stateLines().length === 2);
    expect(reads).to.equal(3);
    expect(await verdict(k1)).to.equal('OIDC_ID_TOKEN_KEY_UNKNOWN');
    expect(await verdict(k2)).to.equal('verified');
    expect(stateLines().map((l) => [l['event'], l['was']])).to.deep.equal([
      ['broker.idp_keys_stale', undefined],
      ['broker.idp_keys_recovered', 'stale'],
    ]);
  });

  /** Waits for a read started in the background to have ended (it is not the sign-in's to await). */
  const until = (done: () => boolean) => eventually(async () => done(), 'the background key read to end');
});
