// A fresh clone's `npm install` (npm 11 blocks dependencies' install scripts unless package.json's
// allowScripts decides) ends with a warning for every dependency whose script nobody has decided on.
// Each gets a decision, so a newcomer's first command warns of none, and a new dependency with an
// install script is reviewed here, not waved through. Read from the lockfile, as npm does, so the
// check does not depend on the npm version of the machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';

/** The name of a lockfile package entry: the last `node_modules/<name>` of its path. */
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('npm install on a fresh clone', () => {
  it("leaves no dependency's install script undecided (package.json allowScripts)", () => {
    const root = packageRoot();
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const decided = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        allowScripts?: Record<string, boolean>;
      }
    ).allowScripts;
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => nameOf(path));
    expect(withScripts.filter((name) => typeof decided?.[name] !== 'boolean')).to.deep.equal([]);
  });
});
