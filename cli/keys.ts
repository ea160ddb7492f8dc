// `jsm-sso keys`: the SAML signing Secrets a standalone broker and portal read, written in the
// secrets-dir layout (<dir>/<secret>/tls.crt, tls.key), the same key pairs the operator generates.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommand, requireString, UsageError } from '../common/args.js';
import { loadTenantFile } from '../common/config/load.js';
import {
  type SigningPart,
  signingCertificateCommonName,
  signingSecretName,
} from '../common/config/signing-secrets.js';
import { createSelfSignedCertificate } from '../common/pki.js';

const SPEC = {
  name: 'keys',
  summary:
    "Generate the broker's and the portal's SAML signing key pairs for --config into --secrets-dir: RSA-2048, or P-256 when its spec.signatureAlgorithm is ecdsa-sha256. An existing pair is kept, never overwritten.",
  options: {
    config: {
      type: 'string' as const,
      value: 'FILE',
      description: 'The JsmSsoTenant YAML the parts will run.',
    },
    'secrets-dir': {
      type: 'string' as const,
      value: 'DIR',
      description: 'Where to write <secret>/tls.crt and tls.key (created if needed).',
    },
    days: {
      type: 'string' as const,
      value: 'N',
      description: 'Certificate lifetime in days (default 3650, as the operator generates).',
    },
    next: {
      type: 'boolean' as const,
      description: "Write the broker's next pair (next.crt, next.key) for a rollover instead.",
    },
  },
};

function lifetimeDays(raw: unknown): number {
  if (raw === undefined) return 3650;
  if (typeof raw !== 'string' || !/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 36500) {
    throw new UsageError(`--days must be a whole number from 1 to 36500, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

export async function run(argv: string[]): Promise<void> {
  const values = parseCommand(SPEC, argv);
  if (!values) return;
  const days = lifetimeDays(values['days']);
  const root = requireString(values, 'secrets-dir');
  const tenant = loadTenantFile(requireString(values, 'config'));
  const next = values['next'] === true;
  // Only the broker publishes a next certificate ahead of a rollover (spec.broker.signingSecretRef).
  const parts: SigningPart[] = next ? ['broker'] : ['broker', 'portal'];
  const [certKey, keyKey] = next ? ['next.crt', 'next.key'] : ['tls.crt', 'tls.key'];
  for (const part of parts) {
    const dir = join(root, signingSecretName(tenant, part));
    const certFile = join(dir, certKey);
    const keyFile = join(dir, keyKey);
    if (existsSync(certFile) || existsSync(keyFile)) {
      console.log(`kept ${dir}: it already has ${certKey} or ${keyKey}`);
      continue;
    }
    const pair = await createSelfSignedCertificate({
      commonName: signingCertificateCommonName(tenant, part),
      days,
      algorithm: tenant.spec.signatureAlgorithm,
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The key first and private to the owner; `wx` refuses to replace a file that appeared meanwhile.
    writeFileSync(keyFile, pair.keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(certFile, pair.certPem, { mode: 0o644, flag: 'wx' });
    console.log(
      `wrote ${certFile} and ${keyKey} (${part}, ${tenant.spec.signatureAlgorithm}, valid ${days} days)`,
    );
  }
}
