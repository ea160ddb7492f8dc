// The image's SBOM (SPDX 2.3 JSON): npm's document for the production packages, plus the Debian
// packages of the rootfs (from its dpkg status file) and the Node.js binary, each contained by the
// image. Run by .ci/image.sh; prints the document on stdout.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo: string;
  downloadLocation: string;
  filesAnalyzed: boolean;
  licenseDeclared?: string;
  supplier?: string;
  externalRefs: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
}
interface SpdxDocument {
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  documentDescribes: string[];
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

const { values } = parseArgs({
  options: {
    npm: { type: 'string' },
    'dpkg-status': { type: 'string' },
    'deb-arch': { type: 'string' },
    node: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    created: { type: 'string' },
  },
});
const required = (key: keyof typeof values): string => {
  const value = values[key];
  if (!value) throw new Error(`image-sbom: --${key} is required`);
  return value;
};

const doc = JSON.parse(readFileSync(required('npm'), 'utf8')) as SpdxDocument;
const image = `SPDXRef-Image-${required('name')}`;
const app = doc.documentDescribes[0]!;
const spdxId = (kind: string, name: string, version: string) =>
  `SPDXRef-${kind}-${name}-${version}`.replace(/[^A-Za-z0-9.-]/g, '-');
const extra: SpdxPackage[] = [
  {
    name: required('name'),
    SPDXID: image,
    versionInfo: required('version'),
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    externalRefs: [],
  },
  {
    name: 'node',
    SPDXID: spdxId('Node', 'node', required('node')),
    versionInfo: required('node').replace(/^v/, ''),
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    supplier: 'Organization: OpenJS Foundation',
    externalRefs: [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceType: 'purl',
        referenceLocator: `pkg:generic/node@${required('node').replace(/^v/, '')}`,
      },
    ],
  },
  ...debianPackages(readFileSync(required('dpkg-status'), 'utf8'), required('deb-arch')),
];
doc.name = `${required('name')}@${required('version')}`;
doc.documentNamespace = `${doc.documentNamespace.replace(/-[0-9a-f-]{36}$/, '')}-image`;
doc.creationInfo.created = required('created');
doc.creationInfo.creators.push('Tool: jsm-sso scripts/image-sbom.ts');
doc.documentDescribes = [image];
doc.relationships = doc.relationships.filter((r) => r.spdxElementId !== 'SPDXRef-DOCUMENT');
doc.relationships.push({
  spdxElementId: 'SPDXRef-DOCUMENT',
  relationshipType: 'DESCRIBES',
  relatedSpdxElement: image,
});
for (const contained of [app, ...extra.slice(1).map((p) => p.SPDXID)]) {
  doc.relationships.push({
    spdxElementId: image,
    relationshipType: 'CONTAINS',
    relatedSpdxElement: contained,
  });
}
doc.packages.push(...extra);
console.log(JSON.stringify(doc, null, 2));

/** One package per stanza of a dpkg status file, with its Debian purl. */
function debianPackages(status: string, arch: string): SpdxPackage[] {
  return status
    .split(/\n\n+/)
    .filter((stanza) => stanza.trim())
    .map((stanza) => {
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1] ?? '';
      const name = field('Package');
      const version = field('Version');
      const packageArch = field('Architecture') || arch;
      return {
        name,
        SPDXID: spdxId('Deb', name, version),
        versionInfo: version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        supplier: `Organization: ${field('Maintainer') || 'Debian'}`,
        externalRefs: [
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${packageArch}&distro=debian-12`,
          },
        ],
      };
    });
}
