import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../common/errors.js';
import { packageRoot } from '../../common/paths.js';
import { loadDefaultSeed, parseSeed } from '../../dev/jsm-emulator/seed.js';
import { buildState } from '../../dev/jsm-emulator/state.js';
import { runCli } from '../../testkit/cli.js';

const base = `
users:
  - { key: bot, kind: agent, email: bot@acme.test, displayName: Bot, apiToken: t }
  - { key: amy, kind: customer, email: amy@acme.test, displayName: Amy }
serviceDesks:
  - projectKey: IT
    name: IT
    requestTypeGroups: [G]
    requestTypes:
      - { name: Help, groups: [G], fields: [{ fieldId: summary, name: Summary, kind: text, required: true }] }
`;
const problemsOf = (yaml: string) => {
  try {
    buildState(parseSeed(yaml));
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('seed was accepted');
};

/** The yaml block of the README's "Seeding your own help center", the seed a newcomer copies first. */
function readmeSeed(): string {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Seeding your own help center'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md\'s "Seeding your own help center" has no yaml block');
  return block[1]!;
}

describe('JSM emulator seed', function () {
  this.timeout(60_000);
  it('builds the default help center: two desks, a dozen request types, dozens of requests, carol not a customer', () => {
    const state = buildState(loadDefaultSeed());
    expect([...state.serviceDesks.values()].map((d) => d.projectName)).to.deep.equal(['IT Help', 'HR']);
    expect(state.requestTypes.size).to.equal(12);
    expect(state.requests.size).to.be.at.least(24);
    expect(state.userByEmail('carol@partner.test')).to.equal(undefined);
    expect(
      state.organizationsOf(state.userByEmail('alice@acme.test')!.accountId).map((o) => o.name),
    ).to.deep.equal(['Acme Corp']);
    expect(state.userByEmail('alice@acme.test')!.accountId).to.match(/^qm:/);
  });
  it('names the YAML path of an unknown user', () => {
    const yaml = `${base}requests:\n${'  - { serviceDesk: IT, requestType: Help, reporter: amy, summary: s }\n'.repeat(3)}  - { serviceDesk: IT, requestType: Help, reporter: zed, summary: s }\n`;
    expect(problemsOf(yaml)).to.equal('requests[3].reporter: unknown user "zed"');
  });
  it('names the YAML path of a schema violation', () => {
    expect(problemsOf(base.replace('kind: customer', 'kind: visitor'))).to.match(
      /^users\[1\]\.kind: must be one of "agent", "customer"/,
    );
    expect(
      problemsOf(base.replace('kind: text, required: true', 'kind: text, required: yes-please')),
    ).to.contain('serviceDesks[0].requestTypes[0].fields[0].required: must be boolean');
    expect(problemsOf(`${base}bogus: 1\n`)).to.equal('bogus: unknown property');
  });
  it('refuses a seeded field value the field would refuse', () => {
    expect(
      problemsOf(
        `${base}requests:\n  - { serviceDesk: IT, requestType: Help, reporter: amy, summary: s, fields: { Nope: 1 } }\n`,
      ),
    ).to.contain('requests[0].fields.Nope');
  });
  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf('users: [\n')).to.match(/^seed:\d+: /);
  });
  it("builds the README's example seed", () => {
    const state = buildState(parseSeed(readmeSeed(), 'README.md'));
    expect([...state.serviceDesks.values()].map((d) => d.projectName)).to.deep.equal(['IT Help']);
    expect(state.requests.size).to.equal(1);
  });
  it('says on the command line that the seed is invalid, not a tenant configuration', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jsm-sso-seed-')), 'seed.yaml');
    writeFileSync(file, base.replace('kind: customer', 'kind: visitor'));
    const result = await runCli(['dev', 'jsm-emulator', '--port', '0', '--seed', file]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^jsm-sso: the JSM emulator seed is invalid:\n {2}- users\[1\]\.kind: /);
  });
});
