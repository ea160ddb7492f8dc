import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway certificate authority made with the openssl CLI (an implementation independent of
 * the code under test), for TLS tests: server certificates for chosen host names, expired or
 * not-yet-valid ones, and client certificates. P-256 keys, so issuing is fast.
 */
export interface TestCa {
  caPem: string;
  /** Folder holding ca.crt/ca.key and issued files; removed by `cleanup()`. */
  dir: string;
  issue(options: IssueOptions): IssuedCertificate;
  cleanup(): void;
}

export interface IssueOptions {
  /** DNS names and IP addresses for subjectAltName; the first is also the CN. */
  hosts: string[];
  /** Validity from now (default 2 days); ignored when notAfter is given. */
  days?: number;
  /** Default: one hour ago. */
  notBefore?: Date;
  notAfter?: Date;
  /** A client certificate (extendedKeyUsage clientAuth) instead of a server one. */
  client?: boolean;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** Serial number as upper-case hex, as Node's X509Certificate.serialNumber prints it. */
  serial: string;
}

export function makeTestCa(commonName = 'jsm-sso test CA'): TestCa {
  if (spawnSync('openssl', ['version']).status !== 0) {
    throw new Error('openssl is not installed (apt-get install openssl); TLS tests need it');
  }
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pki-'));
  const file = (name: string) => join(dir, name);
  mkdirSync(file('issued'));
  writeFileSync(file('index.txt'), '');
  writeFileSync(
    file('ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${file('index.txt')}`,
      `new_certs_dir = ${file('issued')}`,
      `certificate = ${file('ca.crt')}`,
      `private_key = ${file('ca.key')}`,
      `serial = ${file('serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      'copy_extensions = none',
      '[policy_any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(
    ['req', '-x509', ...newKey(file('ca.key')), '-out', file('ca.crt'), '-days', '3'],
    ['-subj', `/CN=${commonName}`],
    ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  let count = 0;
  return {
    caPem: readFileSync(file('ca.crt'), 'utf8'),
    dir,
    issue(options) {
      count += 1;
      const name = (suffix: string) => file(`leaf-${count}.${suffix}`);
      const [cn] = options.hosts;
      if (!cn) throw new Error('issue() needs at least one host');
      const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
      const notAfter = options.notAfter ?? new Date(Date.now() + (options.days ?? 2) * 86_400_000);
      openssl(['req', '-new', ...newKey(name('key')), '-out', name('csr'), '-subj', `/CN=${cn}`]);
      const san = options.hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(
        name('ext'),
        [
          'basicConstraints = critical,CA:FALSE',
          'keyUsage = critical,digitalSignature',
          `extendedKeyUsage = ${options.client ? 'clientAuth' : 'serverAuth'}`,
          `subjectAltName = ${san}`,
          '',
        ].join('\n'),
      );
      // A fresh random serial each time, so rotation tests can tell certificates apart.
      writeFileSync(file('serial'), `${randomBytes(8).toString('hex').replace(/^./, '4')}\n`);
      openssl([
        'ca',
        '-batch',
        '-notext',
        '-config',
        file('ca.cnf'),
        '-in',
        name('csr'),
        '-out',
        name('crt'),
        '-extfile',
        name('ext'),
        '-startdate',
        asn1Time(notBefore),
        '-enddate',
        asn1Time(notAfter),
      ]);
      const certPem = readFileSync(name('crt'), 'utf8');
      const serial = openssl(['x509', '-in', name('crt'), '-noout', '-serial'])
        .trim()
        .replace(/^serial=/, '');
      return { certPem, keyPem: readFileSync(name('key'), 'utf8'), serial };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

function openssl(...args: string[][]): string {
  return execFileSync('openssl', args.flat(), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** openssl ca's date format: YYMMDDHHMMSSZ (UTCTime, what RFC 5280 wants before 2050). */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
}
