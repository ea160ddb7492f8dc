// A swap of the broker's signing key (operator/README.md: the new pair becomes tls.*, the old is kept as
// next.*) while a person is at her IdP: the broker's pods of after the swap must finish the sign-in a
// pod of before it started, whose state they sealed under the old key (ADR 0298).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createBrokerApp } from '../../broker/app.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import {
  Browser,
  closeServer,
  listenPlaceholder,
  loginAtDevIdp,
  pageReason,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';
import { makeKeyPair } from '../../testkit/keys.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

describe("a swap of the broker's key during a sign-in (ADR 0298)", function () {
  this.timeout(60_000);
  let stack: Stack;
  let swappedDir: string;
  const swappedTo = makeKeyPair('acme broker new');
  before(async () => {
    stack = await startStack();
    swappedDir = mkdtempSync(join(tmpdir(), 'jsm-sso-key-swap-'));
    cpSync(stack.pki.dir, swappedDir, { recursive: true });
    const signing = join(swappedDir, 'broker-signing');
    writeFileSync(join(signing, 'tls.key'), swappedTo.keyPem);
    writeFileSync(join(signing, 'tls.crt'), swappedTo.certPem);
    writeFileSync(join(signing, 'next.key'), stack.pki.brokerKey);
    writeFileSync(join(signing, 'next.crt'), stack.pki.brokerCert);
  });
  after(async () => {
    await stack.close();
    rmSync(swappedDir, { recursive: true, force: true });
  });

  /** A sign-in started at the stack's broker, called back at a broker pod reading `secretsDir`. */
  async function finishedAt(secretsDir: string) {
    const { server, url } = await listenPlaceholder();
    const pod = await createBrokerApp({ ...stack.broker.context, secrets: new SecretDirectory(secretsDir) });
    server.on('request', pod.handler);
    try {
      const browser = new Browser();
      const authorizeUrl = await stack.portal.getAuthorizeUrlAsync('rs-1', undefined, {});
      const sso = await browser.request(authorizeUrl);
      expect(sso.status).to.equal(302);
      const atIdp = new URL(sso.headers.get('location')!, authorizeUrl).href;
      return await loginAtDevIdp(browser, atIdp, { brokerUrl: stack.broker.url, callbackAt: url });
    } finally {
      await pod.close();
      await closeServer(server);
    }
  }

  it('is finished by a broker pod of after the swap, which holds the old key as next', async () => {
    const done = await finishedAt(swappedDir);
    expect(done.page.status, done.html).to.equal(200);
    expect(signedStatusCodes(done.fields['SAMLResponse']!, swappedTo.certPem)[0]).to.equal(SUCCESS);
  });

  it("is refused once the runbook's last patch has removed the old key (a leaked key is revoked)", async () => {
    for (const file of ['next.key', 'next.crt']) rmSync(join(swappedDir, 'broker-signing', file));
    const done = await finishedAt(swappedDir);
    expect([done.page.status, pageReason(done.html)]).to.deep.equal([400, 'FLOW_UNKNOWN']);
  });
});
