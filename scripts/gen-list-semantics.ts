// Writes operator/kube/list-semantics.ts from the OpenAPI v3 of the test API server (testkit/envtest.ts):
// how server-side apply merges each list and map of the kinds the operator applies, which
// operator/drift.ts follows. test/operator/list-semantics.test.ts fails when the file is stale.
// Run with the kube binaries built: `npx tsx scripts/gen-list-semantics.ts`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { envtest } from '../testkit/envtest.js';
import { listSemanticsModule, listSemanticsOf } from '../testkit/list-semantics.js';

const env = await envtest();
const version = await env.client.request<{ gitVersion: string }>('GET', '/version');
const file = join(packageRoot(), 'operator/kube/list-semantics.ts');
writeFileSync(file, listSemanticsModule(await listSemanticsOf(env.client), version.gitVersion));
execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' });
process.exit(0);
