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

/** One tenant whose signing certificate a part reports. */
export interface SigningTenant {
  tenant: JsmSsoTenant;
  tenantId: string;
  secrets: SecretReader;
}

/**
 * `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant,part,slot}`: the notAfter of the
 * part's own SAML signing certificate, read from the secrets at every scrape so a rotated Secret
 * shows at once, for each tenant the process serves (one, or a pool's). A certificate that does not
 * parse is left out (the part would not have started).
 */
export function registerSigningCertificateExpiry(
  registry: Registry,
  part: SigningPart,
  tenants: () => Iterable<SigningTenant>,
): void {
  new Gauge({
    name: 'jsm_sso_signing_certificate_expiry_timestamp_seconds',
    help: "notAfter of this part's SAML signing certificate (slot current: tls.crt, next: next.crt), as Unix time.",
    labelNames: ['tenant', 'part', 'slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { tenant, tenantId, secrets } of tenants()) {
        const secretName = signingSecretName(tenant, part);
        for (const [slot, key] of SLOTS) {
          const notAfter = certificateNotAfter(secrets.readOptional(secretName, key));
          if (notAfter !== undefined) this.set({ tenant: tenantId, part, slot }, notAfter.getTime() / 1000);
        }
      }
    },
  });
}
