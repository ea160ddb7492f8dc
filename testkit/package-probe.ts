// Preloaded into a child process (`--import`, after tsx): writes `package loaded: <name>` to stderr
// the first time the process resolves a module of the package named by $JSM_SSO_PROBE_PACKAGE, so a
// test can hold a path of the product to never loading a package (the pool's kube source and
// @kubernetes/client-node, ADR 0136). Resolution hooks see static and dynamic imports alike.
import { writeSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

export const PACKAGE_LOADED = 'package loaded:';

const name = process.env['JSM_SSO_PROBE_PACKAGE'];
if (name) {
  let reported = false;
  registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      if (!reported && result.url.includes(`/node_modules/${name}/`)) {
        reported = true;
        writeSync(2, `${PACKAGE_LOADED} ${name}\n`);
      }
      return result;
    },
  });
}

/** Node arguments `[--import=tsx, ..., entry]` with the probe preloaded after tsx. */
export function probed(entry: string[]): string[] {
  const [tsx, ...rest] = entry;
  return [tsx!, `--import=${fileURLToPath(import.meta.url)}`, ...rest];
}
