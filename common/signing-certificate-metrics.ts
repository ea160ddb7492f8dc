import { Gauge, type Registry } from 'prom-client';
import { type SigningPart, signingSecretName } from './config/signing-secrets.js';
import type { JsmSsoTenant } from './config/tenant.generated.js';
import { certificateNotAfter } from './pki.js';
import type { SecretReader } from './pool/source.js';

/** Certificate keys of a signing Secret: the pair in use and, during a rollover, the next one. */
const SLOTS = [
  ['current', 'tls.crt'],
  ['next', 'next.crt'],
] as const;

/**
 * `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant,part,slot}`: the notAfter of the
 * part's own SAML signing certificate, read from the secrets dir at every scrape so a rotated Secret
 * shows at once. A certificate that does not parse is left out (the part would not have started).
 */
export function registerSigningCertificateExpiry(
  registry: Registry,
  options: { tenant: JsmSsoTenant; tenantId: string; part: SigningPart; secrets: SecretReader },
): void {
  const secretName = signingSecretName(options.tenant, options.part);
  new Gauge({
    name: 'jsm_sso_signing_certificate_expiry_timestamp_seconds',
    help: "notAfter of this part's SAML signing certificate (slot current: tls.crt, next: next.crt), as Unix time.",
    labelNames: ['tenant', 'part', 'slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [slot, key] of SLOTS) {
        const notAfter = certificateNotAfter(options.secrets.readOptional(secretName, key));
        if (notAfter !== undefined) {
          this.set({ tenant: options.tenantId, part: options.part, slot }, notAfter.getTime() / 1000);
        }
      }
    },
  });
}
