// Chromium for the browser tests: the system's /usr/bin/chromium driven by playwright-core, headless
// and without the background traffic that would slow a loaded CI machine.
import { createHash, X509Certificate } from 'node:crypto';
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumOptions {
  /**
   * Keep the back/forward cache a customer's Chromium has: playwright-core turns it off by default
   * (`--disable-back-forward-cache`), and with it what Back shows after a session ended.
   */
  backForwardCache?: boolean;
}

/**
 * Chromium that accepts exactly these server certificates (by public key) besides the public CAs:
 * servers on a test CA are trusted one by one, certificate errors elsewhere stay errors.
 */
export function launchChromium(
  trustedServerCertificates: string[] = [],
  options: ChromiumOptions = {},
): Promise<Browser> {
  const spki = trustedServerCertificates.map((pem) =>
    createHash('sha256')
      .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64'),
  );
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      ...CHROMIUM_ARGS,
      ...(spki.length ? [`--ignore-certificate-errors-spki-list=${spki.join(',')}`] : []),
    ],
    ...(options.backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
}
