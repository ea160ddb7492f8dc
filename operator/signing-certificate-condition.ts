import type { JsmSsoTenant } from '../common/config/load.js';
import { PARTS, type SecretFacts } from './resources/common.js';
import { signingSecretName } from './resources/secret-refs.js';
import { parsedCertificate } from './secret-facts.js';
import type { ConditionInput } from './status.js';

/**
 * The SigningCertificateValid condition: whether the broker's and the portal's SAML signing
 * certificates (tls.crt of their signing Secrets) stay valid for longer than the warning window.
 * The message names dates, never a count of days, so an idle tenant's status does not change
 * daily; the condition is re-evaluated at every reconcile and resync.
 */
export const CERTIFICATE_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export function signingCertificateCondition(
  tenant: JsmSsoTenant | undefined,
  secrets: Record<string, SecretFacts>,
  now: Date,
): ConditionInput {
  if (!tenant) {
    return { status: 'Unknown', reason: 'ConfigInvalid', message: 'checked once the configuration is valid' };
  }
  const found = PARTS.map((part) => {
    const secret = signingSecretName(tenant, part);
    return { part, secret, notAfter: parsedCertificate(secrets[secret], 'tls.crt')?.notAfter };
  });
  const unreadable = found.find((c) => c.notAfter === undefined);
  if (unreadable) {
    return {
      status: 'Unknown',
      reason: 'CertificateUnreadable',
      message: `Secret ${unreadable.secret} has no readable tls.crt (see ConfigValid)`,
    };
  }
  const soonest = [...found].sort((a, b) => a.notAfter!.getTime() - b.notAfter!.getTime())[0]!;
  const when = soonest.notAfter!.toISOString().replace(/\.\d+Z$/, 'Z');
  const rotate = 'rotate it (docs/production.md#signing-key-rotation)';
  if (soonest.notAfter!.getTime() <= now.getTime()) {
    return {
      status: 'False',
      reason: 'CertificateExpired',
      message: `the ${soonest.part} signing certificate in Secret ${soonest.secret} expired at ${when}; ${rotate}`,
    };
  }
  if (soonest.notAfter!.getTime() - now.getTime() < CERTIFICATE_WARNING_DAYS * DAY_MS) {
    return {
      status: 'False',
      reason: 'CertificateExpiringSoon',
      message: `the ${soonest.part} signing certificate in Secret ${soonest.secret} expires at ${when}, within ${CERTIFICATE_WARNING_DAYS} days; ${rotate}`,
    };
  }
  return {
    status: 'True',
    reason: 'CertificatesValid',
    message: found
      .map((c) => `${c.part} certificate valid until ${c.notAfter!.toISOString().replace(/\.\d+Z$/, 'Z')}`)
      .join(', '),
  };
}
