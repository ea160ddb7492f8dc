// Validation against the OASIS SAML 2.0 XSDs (protocol, assertion, metadata, with xmldsig and xenc)
// as pysaml2 ships them, by libxml2's xmllint. The OASIS schemas import xmldsig/xenc/xml.xsd from
// w3.org; a driver schema imports the local copies first, so nothing is fetched (--nonet).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerPython } from './peers.js';

const IMPORTS: Array<[namespace: string, file: string]> = [
  ['http://www.w3.org/XML/1998/namespace', 'xml.xsd'],
  ['http://www.w3.org/2000/09/xmldsig#', 'xmldsig-core-schema.xsd'],
  ['http://www.w3.org/2001/04/xmlenc#', 'xenc-schema.xsd'],
  ['urn:oasis:names:tc:SAML:2.0:assertion', 'saml-schema-assertion-2.0.xsd'],
  ['urn:oasis:names:tc:SAML:2.0:protocol', 'saml-schema-protocol-2.0.xsd'],
  ['urn:oasis:names:tc:SAML:2.0:metadata', 'saml-schema-metadata-2.0.xsd'],
];

let driver: string | undefined;

function driverSchema(): string {
  if (driver) return driver;
  const dir = execFileSync(
    peerPython(),
    ['-c', 'import os, saml2.data.schemas as s; print(os.path.dirname(s.__file__))'],
    { encoding: 'utf8' },
  ).trim();
  const imports = IMPORTS.map(
    ([namespace, file]) => `<xs:import namespace="${namespace}" schemaLocation="${join(dir, file)}"/>`,
  ).join('');
  const path = join(mkdtempSync(join(tmpdir(), 'jsm-sso-xsd-')), 'saml-2.0.xsd');
  writeFileSync(
    path,
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:jsm-sso:interop">${imports}</xs:schema>`,
  );
  driver = path;
  return driver;
}

/** The schema errors of an XML document (none: valid). Throws when xmllint is missing. */
export function schemaErrors(xml: string): string[] {
  const run = spawnSync('xmllint', ['--nonet', '--noout', '--schema', driverSchema(), '-'], {
    input: xml,
    encoding: 'utf8',
  });
  if (run.error) throw new Error(`xmllint (Debian package libxml2-utils) cannot run: ${run.error.message}`);
  const errors = run.stderr.split('\n').filter((line) => /error/i.test(line) && !/parser warning/.test(line));
  if (run.status !== 0 && errors.length === 0)
    errors.push(run.stderr.trim() || `xmllint exited ${run.status}`);
  return errors;
}
