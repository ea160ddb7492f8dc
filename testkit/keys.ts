// Test keys and self-signed certificates made by the openssl CLI, once per process and label, so
// suites share them without paying for key generation twice. A missing openssl fails the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  keyPem: string;
  certPem: string;
}

export type KeyType = 'rsa' | 'ec';

const cache = new Map<string, KeyPair>();

/**
 * A private key (PKCS#8 PEM) and its self-signed X.509 certificate (PEM, CN=`label`). The same
 * label and type give the same pair within one process; use another label for an unrelated key
 * (e.g. 'attacker').
 */
export function makeKeyPair(label = 'default', type: KeyType = 'rsa'): KeyPair {
  const cacheKey = `${type}:${label}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-keys-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const newkey =
      type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...newkey,
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        `/CN=${label}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const pair = { keyPem: readFileSync(keyFile, 'utf8'), certPem: readFileSync(certFile, 'utf8') };
    cache.set(cacheKey, pair);
    return pair;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A key pair whose certificate (CN=`label`, an end-entity: CA:FALSE) `issuer` signed: a chain of two,
 * as an IdP whose signing certificate a CA of its own issued publishes it. Cached as makeKeyPair's are.
 */
export function makeIssuedKeyPair(label: string, issuer: KeyPair): KeyPair {
  const cacheKey = `issued:${label}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-keys-'));
  try {
    const file = (name: string) => join(dir, name);
    writeFileSync(file('issuer.key'), issuer.keyPem);
    writeFileSync(file('issuer.crt'), issuer.certPem);
    writeFileSync(
      file('ext'),
      'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n',
    );
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    run(
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('key.pem')].concat([
        '-out',
        file('csr'),
        '-subj',
        `/CN=${label}`,
      ]),
    );
    run(
      ['x509', '-req', '-in', file('csr'), '-CA', file('issuer.crt'), '-CAkey', file('issuer.key')].concat([
        '-set_serial',
        '2',
        '-days',
        '2',
        '-extfile',
        file('ext'),
        '-out',
        file('cert.pem'),
      ]),
    );
    const pair = {
      keyPem: readFileSync(file('key.pem'), 'utf8'),
      certPem: readFileSync(file('cert.pem'), 'utf8'),
    };
    cache.set(cacheKey, pair);
    return pair;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
