// `node --import tsx bench/profile-signin.ts [rsa|ec] [http|https] [OUT.svg]`: a flame graph of the
// broker's CPU over 200 full sign-ins after the bench's warm-up (1,000), from a `jsm-sso broker` child process
// run with `--cpu-prof`, drawn by bench/flamegraph.ts. The reading is in docs/perf/README.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, setGlobalDispatcher } from 'undici';
import type { DevIdp } from '../dev/idp/provider.js';
import { makeTestCa } from '../testkit/pki.js';
import { type CpuProfile, flameGraphSvg, samplesFrom, sharesOf } from './flamegraph.js';
import { signIns, startScenario, WARM_UP_SIGN_INS } from './signin-cost.js';

const keyType = process.argv[2] === 'ec' ? 'ec' : 'rsa';
const transport = process.argv[3] === 'https' ? 'https' : 'http';
const output = process.argv[4] ?? `signin-${keyType}-${transport}.svg`;
const profileDir = mkdtempSync(join(tmpdir(), 'jsm-sso-profile-'));
const ca = makeTestCa('jsm-sso profile CA');
setGlobalDispatcher(new Agent({ connect: { ca: [ca.caPem] } }));
const idps: DevIdp[] = [];
try {
  const scenario = await startScenario(
    keyType,
    transport,
    ca.issue({ hosts: ['127.0.0.1'] }),
    ca.caPem,
    (idp) => idps.push(idp),
    ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=200'],
  );
  await signIns(scenario, WARM_UP_SIGN_INS);
  const measuredFrom = Number(process.hrtime.bigint() / 1000n); // the profile's clock, in µs
  await signIns(scenario, 200);
  await scenario.stop(); // the profile is written as the broker exits
  const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('the broker wrote no CPU profile');
  const profile = samplesFrom(
    JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile,
    measuredFrom,
  );
  writeFileSync(
    output,
    flameGraphSvg(
      profile,
      `broker CPU, 200 sign-ins after ${WARM_UP_SIGN_INS}, ${keyType} key, ${transport} IdP`,
    ),
  );
  console.log(`wrote ${output}; share of the main thread's sign-in samples:`);
  const shares = sharesOf(profile, {
    'AuthnRequest accepted (inflate, parse, signature, checks)': /^receiveAuthnRequest /,
    'authorization request (PKCE, state, flow store)': /^startLogin /,
    'token request + ID token checks (openid-client)': /^authorizationCodeGrant /,
    'userinfo (openid-client)': /^fetchUserInfo /,
    'outbound fetch (undici, TLS)': /^tlsFetch /,
    'CEL mapping and authority steps': /^runSteps /,
    'Response built and signed': /^issueSignedResponse /,
    'garbage collector': /^\(garbage collector\)/,
    'logging (pino)': /pino\//,
    'metrics (prom-client)': /prom-client\//,
  });
  for (const [name, share] of Object.entries(shares))
    console.log(`  ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
} finally {
  for (const idp of idps) await idp.close();
  ca.cleanup();
  rmSync(profileDir, { recursive: true, force: true });
}
process.exit(0);
