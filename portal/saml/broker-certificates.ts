/**
 * Where the portal gets the broker's signing certificates — the only keys that may verify a SAML
 * Response. Configured certificates win: an explicit list (tests, embedding), else the broker's
 * signing Secret mounted in the secrets dir (`tls.crt`, plus `next.crt` during a rollover; in
 * Kubernetes the operator mounts the public part there). Only when neither exists is the broker's
 * metadata fetched, over verified TLS (plain http only on loopback), and cached for an hour.
 */

import type { SecretReader } from '../../common/pool/source.js';
import { toCertificatePem } from '../../common/saml/certificates.js';
import { SamlError } from '../../common/saml/errors.js';
import { NS } from '../../common/saml/namespaces.js';
import { attribute, descendants, parseSamlXml, simpleText } from '../../common/saml/xml.js';

const METADATA_TTL_MS = 3600_000;

export interface BrokerCertificateSource {
  certificates(): Promise<string[]>;
  /** 'configured' or 'metadata', for the log and the README. */
  readonly kind: 'configured' | 'metadata';
}

export function configuredBrokerCertificates(
  secrets: SecretReader,
  secretName: string,
): BrokerCertificateSource | undefined {
  if (secrets.readOptional(secretName, 'tls.crt') === undefined) return undefined;
  return {
    kind: 'configured',
    // Read on every login so a rotated Secret is picked up without restart.
    async certificates() {
      return ['tls.crt', 'next.crt'].flatMap((key) => {
        const pem = secrets.readOptional(secretName, key);
        return pem ? [pem] : [];
      });
    },
  };
}

export function isLoopbackHttp(url: string): boolean {
  return /^http:\/\/(localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\])(:[0-9]+)?(\/|$)/.test(url);
}

/** Signing certificates of the IdP role in a metadata document whose entityID must be `entityId`. */
export function certificatesFromMetadata(xml: string, entityId: string): string[] {
  const doc = parseSamlXml(xml);
  const root = doc.documentElement;
  if (
    root?.localName !== 'EntityDescriptor' ||
    root.namespaceURI !== NS.metadata ||
    attribute(root, 'entityID') !== entityId
  ) {
    throw new SamlError('SAML_METADATA_INVALID', 'the broker metadata does not describe the expected entity');
  }
  const out: string[] = [];
  for (const idp of descendants(root, NS.metadata, 'IDPSSODescriptor')) {
    for (const kd of descendants(idp, NS.metadata, 'KeyDescriptor')) {
      const use = attribute(kd, 'use');
      if (use !== undefined && use !== 'signing') continue;
      for (const cert of descendants(kd, NS.dsig, 'X509Certificate'))
        out.push(toCertificatePem(simpleText(cert)));
    }
  }
  if (out.length === 0)
    throw new SamlError('SAML_METADATA_INVALID', 'the broker metadata has no signing certificate');
  return out;
}

export function metadataBrokerCertificates(
  brokerUrl: string,
  fetchImpl: typeof globalThis.fetch = globalThis.fetch,
): BrokerCertificateSource {
  const url = `${brokerUrl}/saml/metadata`;
  let cached: { at: number; certificates: string[] } | undefined;
  return {
    kind: 'metadata',
    async certificates() {
      if (cached && Date.now() - cached.at < METADATA_TTL_MS) return cached.certificates;
      if (!url.startsWith('https://') && !isLoopbackHttp(url)) {
        throw new SamlError('SAML_METADATA_UNAVAILABLE', 'the broker metadata URL is not https', {
          status: 503,
        });
      }
      let text: string;
      try {
        const response = await fetchImpl(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
        if (!response.ok) throw new Error(`status ${response.status}`);
        text = await response.text();
      } catch (cause) {
        if (cached) return cached.certificates;
        throw new SamlError('SAML_METADATA_UNAVAILABLE', 'the broker metadata cannot be fetched', {
          status: 503,
          cause,
        });
      }
      cached = { at: Date.now(), certificates: certificatesFromMetadata(text, url) };
      return cached.certificates;
    },
  };
}
