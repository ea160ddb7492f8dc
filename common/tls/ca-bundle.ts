import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { JsmSsoError } from '../errors.js';
import type { SecretReader } from '../pool/source.js';

/** A `caBundleSecretRef` from the tenant: a Secret key holding extra PEM CA certificates. */
export interface CaBundleRef {
  name: string;
  key?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Splits a PEM bundle into its certificates, refusing a bundle with none or with one that does
 * not parse: a broken bundle must stop the process at start, not fail every login later.
 */
export function parseCaBundle(pem: string, source = 'CA bundle'): string[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new JsmSsoError('TLS_CA_BUNDLE_INVALID', `${source} holds no PEM certificate`);
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new JsmSsoError('TLS_CA_BUNDLE_INVALID', `${source} holds a certificate that does not parse`, {
        cause: err,
      });
    }
  }
  return blocks;
}

/** Reads and checks the PEM bundle a `caBundleSecretRef` points at; undefined when there is no ref. */
export function caBundleFor(secrets: SecretReader, ref: CaBundleRef | undefined): string | undefined {
  if (!ref) return undefined;
  const key = ref.key ?? 'ca.crt';
  const pem = secrets.read(ref.name, key);
  parseCaBundle(pem, `secret ${ref.name}/${key}`);
  return pem;
}

/**
 * The `ca` option for a TLS client that trusts an extra bundle. Setting `ca` replaces Node's
 * default store, so the public roots are put back first: the bundle adds trust, never narrows it.
 */
export function trustedCas(extraCaPem: string): string[] {
  return [...rootCertificates, ...parseCaBundle(extraCaPem)];
}
