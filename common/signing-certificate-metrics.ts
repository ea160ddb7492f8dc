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

/** The notAfter, as Unix seconds, of each slot whose certificate is there and parses. */
export type SigningCertificateExpiry = Partial<Record<(typeof SLOTS)[number][0], number>>;

/** One tenant whose signing certificate a part reports. */
export interface SigningTenant {
  tenantId: string;
  expiry: SigningCertificateExpiry;
}

/** Reads and parses `part`'s signing certificates of `tenant` (a certificate that does not parse is left out). */
export function readSigningCertificateExpiry(
  part: SigningPart,
  tenant: JsmSsoTenant,
  secrets: SecretReader,
): SigningCertificateExpiry {
  const secretName = signingSecretName(tenant, part);
  const expiry: SigningCertificateExpiry = {};
  for (const [slot, key] of SLOTS) {
    const notAfter = certificateNotAfter(secrets.readOptional(secretName, key));
    if (notAfter !== undefined) expiry[slot] = notAfter.getTime() / 1000;
  }
  return expiry;
}

/**
 * `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant,part,slot}`: the notAfter of the
 * part's own SAML signing certificate for each tenant the process serves, as `tenants` gives them at
 * every scrape. A dedicated part reads its Secret at every scrape, so a rotated Secret shows at once;
 * a pool parses each tenant's certificates once per bundle (a rotation arrives as a changed bundle),
 * so a scrape of 10,000 tenants parses none (ADR 0122).
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
      for (const { tenantId, expiry } of tenants())
        for (const [slot] of SLOTS) {
          const notAfter = expiry[slot];
          if (notAfter !== undefined) this.set({ tenant: tenantId, part, slot }, notAfter);
        }
    },
  });
}
