// The Dockerfile (what people building the image themselves use) against the image CI builds and
// tests (`npm run image`, .ci/image.sh). No Docker engine or registry is reachable here, so the
// Dockerfile is read, not built; what can run here does: its rootfs script, on this Debian bookworm
// machine as in node:22-bookworm-slim (ADR 0161).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { type ImageContents, imageArchive, readImage } from '../../testkit/oci-image.js';

const root = packageRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's stages, in order, each its instructions (continuations joined, comments dropped). */
function dockerfileStages(text: string): { from: string; name?: string; instructions: Instruction[] }[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [from = '', , name] = args.split(/\s+/);
      stages.push({ from, ...(name ? { name } : {}), instructions: [] });
    } else stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

/** A stage's ARG defaults (`ARG NAME=value`; `ARG NAME` has none). */
function argDefaults(instructions: Instruction[]): Record<string, string> {
  return Object.fromEntries(
    instructions
      .filter((i) => i.keyword === 'ARG')
      .flatMap((i) => {
        const [, name = '', value] = /^([A-Z_]+)(?:=(.*))?$/.exec(i.args) ?? [];
        return value === undefined ? [] : [[name, value]];
      }),
  );
}

/**
 * The `--build-arg`s of the README's `docker build` command, run as written in this checkout (its
 * `$(git ...)` included), with a `docker` that only prints its arguments.
 */
function readmeDockerBuildArgs(): Record<string, string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  // The command ends at its closing backtick or at a line that does not continue (no trailing `\`).
  const command = /docker build(?:[^`\n\\]|\\\n)*/.exec(readme)?.[0];
  if (!command) throw new Error('README.md has no docker build command');
  const argv = execFileSync('bash', ['-c', `docker() { printf '%s\\0' "$@"; }\n${command}`], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .slice(0, -1);
  return Object.fromEntries(
    argv.flatMap((arg, i) => {
      const [, name = '', value = ''] =
        argv[i - 1] === '--build-arg' ? (/^([^=]+)=(.*)$/.exec(arg) ?? []) : [];
      return name ? [[name, value]] : [];
    }),
  );
}

describe('the Dockerfile builds the image CI tests', function () {
  this.timeout(900_000);
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfileStages(dockerfile);
  const final = stages.at(-1)!;
  const all = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
  const last = (keyword: string) => all(keyword).at(-1);
  /** The final stage's labels, each `${ARG}` replaced by its value in `args` (else kept as written). */
  const labelsWith = (args: Record<string, string> = {}) =>
    Object.fromEntries(
      [
        ...all('LABEL')
          .join(' ')
          .matchAll(/(\S+?)="([^"]*)"/g),
      ].map(([, key, value]) => [
        key!,
        value!.replace(/\$\{(\w+)\}/g, (ref, name: string) => args[name] ?? ref),
      ]),
    );
  let image: ImageContents & { close(): void };

  before(async () => {
    image = await readImage(await imageArchive());
  });
  after(() => image?.close());

  it('ends in a stage from scratch that runs nothing: no shell, no package manager to run it with', () => {
    expect(final.from).to.equal('scratch');
    expect(final.instructions.map((i) => i.keyword)).to.not.include('RUN');
    // Everything in it comes from the two stages whose contents the tests below check.
    expect(all('COPY')).to.deep.equal(['--from=rootfs /rootfs/ /', '--from=build /out/ /']);
    expect(all('ADD')).to.deep.equal([]);
  });

  it("runs as the CI image's numeric non-root user, with its entrypoint, command and environment", () => {
    expect(last('USER')).to.match(/^[1-9]\d*:[1-9]\d*$/);
    expect(last('USER')).to.equal(image.config.User);
    // Exec form (JSON): no shell to parse a command line, and node is PID 1, which gets SIGTERM.
    expect(JSON.parse(last('ENTRYPOINT') ?? 'null')).to.deep.equal(image.config.Entrypoint);
    expect(JSON.parse(last('CMD') ?? 'null')).to.deep.equal(image.config.Cmd);
    expect(last('WORKDIR')).to.equal(image.config.WorkingDir);
    expect(all('ENV').sort()).to.deep.equal([...(image.config.Env ?? [])].sort());
    expect(all('EXPOSE').flatMap((e) => e.split(/\s+/))).to.deep.equal(
      Object.keys(image.config.ExposedPorts ?? {}),
    );
  });

  it('carries every label of the CI image, with the same title, description, source and licence', () => {
    const labels = labelsWith();
    const ci = image.config.Labels ?? {};
    expect(Object.keys(labels).sort()).to.deep.equal(Object.keys(ci).sort());
    for (const key of [
      'org.opencontainers.image.title',
      'org.opencontainers.image.description',
      'org.opencontainers.image.source',
      'org.opencontainers.image.licenses',
    ])
      expect(labels[key], key).to.equal(ci[key]);
  });

  it("labels the image as CI does (its version, revision and created time) when built with the README's docker build command", () => {
    const labels = labelsWith({ ...argDefaults(final.instructions), ...readmeDockerBuildArgs() });
    const ci = image.config.Labels ?? {};
    expect(labels['org.opencontainers.image.version']).to.equal(ci['org.opencontainers.image.version']);
    expect(labels['org.opencontainers.image.created'], 'the commit time, as .ci/image.sh').to.equal(
      ci['org.opencontainers.image.created'],
    );
    // CI's says -dirty for a tree with changes not committed; the command names the commit.
    expect(ci['org.opencontainers.image.revision']).to.equal(
      labels['org.opencontainers.image.revision'] +
        (ci['org.opencontainers.image.revision']?.endsWith('-dirty') ? '-dirty' : ''),
    );
  });

  it('refuses, before compiling, build arguments that would label the image with what is not so', () => {
    // The build stage checks the arguments its labels and `jsm-sso --version` take, then builds.
    const build = stages.find((s) => s.name === 'build')!;
    const run = build.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('npm run build'))!.args;
    expect(run).to.match(/^bash \.ci\/image-build-args\.sh "\$\{VERSION\}" "\$\{CREATED\}"\s+&& /);
    expect(argDefaults(build.instructions)).to.deep.equal(argDefaults(final.instructions));
    const check = (version: string, created: string) => {
      try {
        execFileSync('bash', ['.ci/image-build-args.sh', version, created], { cwd: root, stdio: 'pipe' });
        return 'accepted';
      } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
      }
    };
    const readme = readmeDockerBuildArgs();
    const version = argDefaults(final.instructions)['VERSION']!;
    expect(version, "the default is package.json's version").to.equal(pkg.version);
    expect(check(version, readme['CREATED']!)).to.equal('accepted');
    // A plain `docker build .` builds: CREATED's default, the epoch, is a UTC time (ADR 0364).
    expect(check(version, argDefaults(final.instructions)['CREATED']!)).to.equal('accepted');
    // `--build-arg CREATED=` (empty) or a time in another form would make the label no RFC 3339 time.
    expect(check(version, '')).to.include('--build-arg CREATED=');
    expect(check(version, '2026-12-06 20:00')).to.include('--build-arg CREATED=');
    // A version other than package.json's, which `jsm-sso --version` reports.
    expect(check('9.9.9', readme['CREATED']!)).to.include(`package.json's version is ${pkg.version}`);
  });

  it('installs the Debian packages .ci/image.sh installs, and lays out /app with the same script', () => {
    const ciPackages = /^DEB_PACKAGES=(\S+)$/m.exec(readFileSync(join(root, '.ci/image.sh'), 'utf8'))?.[1];
    expect(dockerfile).to.include(`ARG DEB_PACKAGES=${ciPackages}\n`);
    expect(dockerfile).to.include(
      'bash /usr/local/share/jsm-sso/image-rootfs.sh /rootfs "$' + '{DEB_PACKAGES}"',
    );
    expect(dockerfile).to.include('bash .ci/image-app.sh /out/app');
    expect(readFileSync(join(root, '.ci/image.sh'), 'utf8')).to.include('bash .ci/image-app.sh "$APP"');
  });

  it("makes the CI image's Debian layer: the same files, users and dpkg status (its rootfs script, run here)", async () => {
    expect(
      readFileSync('/etc/os-release', 'utf8'),
      'the script reads the dpkg of a Debian bookworm',
    ).to.match(/^VERSION_CODENAME=bookworm$/m);
    const ciPackages = /^DEB_PACKAGES=(\S+)$/m.exec(readFileSync(join(root, '.ci/image.sh'), 'utf8'))![1]!;
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-rootfs-'));
    const rootfs = join(dir, 'rootfs');
    try {
      execFileSync('bash', [join(root, '.ci/image-rootfs.sh'), rootfs, ciPackages]);
      const made = execFileSync('find', ['.', '!', '-type', 'd'], { cwd: rootfs, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((path) => path.replace(/^\.\//, ''))
        .sort();
      // The CI image without what the Dockerfile's build stage adds (node and /app).
      const ci = image.files
        .filter((path) => !image.directories.has(path))
        .filter((path) => !path.startsWith('app/') && path !== 'usr/local/bin/node')
        .sort();
      expect(made).to.deep.equal(ci);
      const packages = (status: string) =>
        [...status.matchAll(/^Package: (\S+)$/gm)].map(([, p]) => p).sort();
      expect(packages(readFileSync(join(rootfs, 'var/lib/dpkg/status'), 'utf8'))).to.deep.equal(
        packages(await image.readFile('var/lib/dpkg/status')),
      );
      for (const file of ['etc/passwd', 'etc/group', 'var/lib/dpkg/arch'])
        expect(readFileSync(join(rootfs, file), 'utf8'), file).to.equal(await image.readFile(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
