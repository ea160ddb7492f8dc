// When the broker reads an upstream SAML IdP's metadata (from its URL) again: on a schedule the
// metadata's cacheDuration and validUntil shorten, never past validUntil, and not at every sign-in
// while the metadata server is down (ADR 0144). A real HTTP server serves the metadata; only the
// clock is the test's, since hours cannot pass in a test.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  METADATA_REFRESH_MS,
  type MetadataSource,
  metadataSource,
} from '../../broker/backends/saml-metadata.js';
import { buildIdpMetadata, certificateBase64, NAMEID_EMAIL, SamlError } from '../../common/saml/index.js';
import { closeServer } from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { makeKeyPair } from '../../testkit/keys.js';

const MINUTE = 60_000;
const oldCert = certificateBase64(makeKeyPair('upstream-idp.example.test').certPem);
const newCert = certificateBase64(makeKeyPair('upstream-idp-next.example.test').certPem);

/** The IdP's metadata with one signing certificate and, on its EntityDescriptor, these attributes. */
function metadataWith(cert: string, attributes = ''): string {
  return buildIdpMetadata({
    entityId: 'https://upstream-idp.example.test/metadata',
    ssoUrl: 'https://upstream-idp.example.test/sso',
    sloUrl: 'https://upstream-idp.example.test/slo',
    signingCertificates: [cert],
    nameIdFormats: [NAMEID_EMAIL],
  }).replace('<md:EntityDescriptor ', `<md:EntityDescriptor ${attributes} `);
}

describe('broker: upstream SAML metadata is read again when it should be', () => {
  let server: Server;
  let url: string;
  /** What the metadata server answers now: a document, or an HTTP status. */
  let answer: string | number;
  let reads: number;
  /** Reads the source counted as failed (the broker's jsm_sso_broker_idp_key_reads_failed_total). */
  let failedReads: number;
  let clock: number;
  let logs: Array<Record<string, unknown>>;
  let source: MetadataSource;

  before(async () => {
    server = createServer((_req, res) => {
      reads++;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
  });
  after(() => closeServer(server));
  beforeEach(() => {
    reads = 0;
    failedReads = 0;
    clock = Date.parse('2026-12-02T12:00:00Z');
    const captured = capturedLogger({ component: 'broker', tenant: 'acme' });
    logs = captured.logs;
    source = metadataSource({
      idp: 'upstream',
      spec: { metadataUrl: url },
      fetch,
      now: () => new Date(clock),
      timeoutMs: 5000,
      logger: captured.logger,
      countFailedRead: () => failedReads++,
    });
  });

  const certificates = async () => (await source.current()).signingCertificatesPem.map(certificateBase64);
  /** Lets a read that current() started in the background finish (it joins it, reads nothing more). */
  const settle = async () => source.afterSignatureFailure(await source.current());
  const reason = (err: unknown) => (err instanceof SamlError ? err.code : String(err));

  it('reads again after an hour by default, in the background, and uses the new document from then on', async () => {
    answer = metadataWith(oldCert);
    expect(await certificates()).to.deep.equal([oldCert]);
    answer = metadataWith(newCert);
    clock += METADATA_REFRESH_MS - 1;
    expect(await certificates()).to.deep.equal([oldCert]);
    expect(reads).to.equal(1);
    clock += 1;
    // Due: the copy in hand serves this call while the read is under way.
    expect(await certificates()).to.deep.equal([oldCert]);
    await settle();
    expect(reads).to.equal(2);
    expect(await certificates()).to.deep.equal([newCert]);
  });

  it("reads again as soon as the metadata's cacheDuration says, but not more often than every minute", async () => {
    answer = metadataWith(oldCert, 'cacheDuration="PT5M"');
    await certificates();
    clock += 5 * MINUTE;
    await certificates();
    await settle();
    expect(reads).to.equal(2);
    answer = metadataWith(oldCert, 'cacheDuration="PT1S"');
    clock += 5 * MINUTE;
    await certificates();
    await settle();
    expect(reads).to.equal(3);
    clock += 59_000;
    await certificates();
    expect(reads).to.equal(3);
    clock += 1000;
    await certificates();
    await settle();
    expect(reads).to.equal(4);
  });

  it('does not use a copy past its validUntil: it is read again before, and refused after if it cannot be', async () => {
    const validUntil = new Date(clock + 30 * MINUTE).toISOString();
    answer = metadataWith(oldCert, `validUntil="${validUntil}"`);
    await certificates();
    answer = 503;
    // Due halfway to validUntil (before the hour); the metadata server is down, the copy still serves.
    clock += 15 * MINUTE;
    expect(await certificates()).to.deep.equal([oldCert]);
    await settle();
    expect(reads).to.equal(2);
    clock += 15 * MINUTE - 1;
    expect(await certificates()).to.deep.equal([oldCert]);
    await settle();
    expect(reads).to.equal(3);
    clock += 1;
    const refused = await source.current().then(
      () => 'used',
      (err: unknown) => reason(err),
    );
    expect(refused).to.equal('SAML_METADATA_UNAVAILABLE');
  });

  it('refuses metadata that is past its validUntil when read, and a cacheDuration that is no duration', async () => {
    answer = metadataWith(oldCert, `validUntil="${new Date(clock - 1000).toISOString()}"`);
    expect(await source.current().then(() => 'used', reason)).to.equal('SAML_METADATA_INVALID');
    answer = metadataWith(oldCert, 'cacheDuration="one hour"');
    expect(await source.current().then(() => 'used', reason)).to.equal('SAML_METADATA_INVALID');
  });

  it('keeps using its copy while the metadata server is down, trying again once a minute, not at every sign-in', async () => {
    answer = metadataWith(oldCert);
    await certificates();
    answer = 503;
    clock += METADATA_REFRESH_MS;
    await certificates();
    await settle();
    expect(reads).to.equal(2);
    for (let i = 0; i < 5; i++) expect(await certificates()).to.deep.equal([oldCert]);
    expect(reads).to.equal(2);
    clock += MINUTE;
    await certificates();
    await settle();
    expect(reads).to.equal(3);
    answer = metadataWith(newCert);
    clock += MINUTE;
    await certificates();
    await settle();
    expect(reads).to.equal(4);
    expect(await certificates()).to.deep.equal([newCert]);
    // Told once when the reads start failing and once when they work again (ADR 0151); each failed read counted.
    expect(failedReads).to.equal(2);
    const states = logs.filter((l) => String(l['event']).startsWith('broker.idp_keys_'));
    expect(states).to.have.length(2);
    expect(states[0]).to.include({
      event: 'broker.idp_keys_stale',
      idp: 'upstream',
      keys: 'saml_metadata',
      reason: 'SAML_METADATA_UNAVAILABLE',
      servesUntil: new Date(Date.parse('2026-12-03T12:00:00Z')).toISOString(),
    });
    expect(states[1]).to.include({ event: 'broker.idp_keys_recovered', keys: 'saml_metadata', was: 'stale' });
  });

  it('says once that no copy may serve when the metadata cannot be read at first use, and once that it is read again', async () => {
    answer = 503;
    for (let i = 0; i < 3; i++)
      expect(await source.current().then(() => 'used', reason)).to.equal('SAML_METADATA_UNAVAILABLE');
    expect(failedReads).to.equal(3);
    answer = metadataWith(oldCert);
    expect(await certificates()).to.deep.equal([oldCert]);
    const states = logs.filter((l) => String(l['event']).startsWith('broker.idp_keys_'));
    expect(states.map((l) => [l['event'], l['reason'] ?? l['was']])).to.deep.equal([
      ['broker.idp_keys_unusable', 'SAML_METADATA_UNAVAILABLE'],
      ['broker.idp_keys_recovered', 'unusable'],
    ]);
  });
});
