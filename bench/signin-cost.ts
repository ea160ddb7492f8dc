import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { stringify } from 'yaml';
import { MemoryFlowStore } from '../common/flowstore/index.js';
import type { HopSignatureAlgorithm } from '../common/saml/index.js';
import { type DevIdp, startDevIdp } from '../dev/idp/provider.js';
import { NODE_OPTIONS as DEPLOYED_NODE_OPTIONS } from '../operator/resources/deployment.js';
import { ServiceProvider } from '../portal/saml/sp.js';
import {
  Browser,
  createPki,
  devClient,
  listenPlaceholder,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
  PORTAL_URL,
  tenantFor,
  useSigningKey,
} from '../testkit/broker-harness.js';
import { makeKeyPair } from '../testkit/keys.js';
import { type LocalRedis, startLocalRedis } from '../testkit/local-redis.js';
import { makeTestCa } from '../testkit/pki.js';
import { BASELINE_ENTRY, BROKER_ENTRY, spawnBroker } from './broker.js';
import { type FloorBroker, startFloorBroker } from './signin-floor.js';

/**
 * Broker CPU per full sign-in, as a multiple of one raw RSA-2048 `crypto.sign`, both measured as
 * CPU time in the same run (issue 16: target at most 3). A sign-in is everything the broker does
 * for one person: the portal's signed AuthnRequest (/saml/sso), the OIDC callback (token request,
 * ID token signature and claims, userinfo, CEL mapping, authority checks) and the signed Response.
 * The broker runs as `jsm-sso broker` child processes, as deployed, and its CPU is read from its
 * own /metrics (process.cpuUsage); the browsers, the dev IdP and the portal's Response check run
 * in this process and cost the broker nothing. Four brokers run side by side — RSA-2048 or ECDSA
 * P-256 signing keys, against the dev IdP over loopback http or over HTTPS — and are measured in
 * interleaved rounds, so machine load shifts every figure alike. With JSM_SSO_BENCH_BASELINE_BROKER
 * (another build's `dist/cli/main.js`) each scenario runs a second broker of that build in the same
 * rounds, and the figures add the ratio of this build's CPU per sign-in to the baseline's. The floor
 * (bench/signin-floor.ts: the same exchanges and key operations with no other work) runs in the
 * same rounds, so its ratio says how far any Node broker could go.
 */

interface Scenario {
  name: string;
  /** The broker's process (its launcher's, when it runs under one such as valgrind). */
  pid: number;
  brokerUrl: string;
  managementUrl: string;
  portal: ServiceProvider;
  /** Flow-store commands the broker's Redis has served so far (scenarios with a Redis only). */
  redisCommands?(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Two more RSA-2048 / HTTPS IdP brokers: one with the NODE_OPTIONS the operator gives every part it
 * deploys (a 2 MB young generation), one as deployed with more than one replica, its flows in Redis.
 */
const DEPLOYED_FLAGS = DEPLOYED_NODE_OPTIONS.split(' ');
const VARIANTS: ReadonlyArray<{ suffix: string; nodeFlags: string[]; redis: boolean }> = [
  { suffix: '_operator_node_options', nodeFlags: DEPLOYED_FLAGS, redis: false },
  { suffix: '_redis_operator_node_options', nodeFlags: DEPLOYED_FLAGS, redis: true },
];

/** JSM_SSO_BENCH_SIGNIN_ROUNDS: more rounds narrow the noise of a loaded machine (default 6). */
const ROUNDS = Number(process.env['JSM_SSO_BENCH_SIGNIN_ROUNDS'] ?? 6);
const SIGN_INS_PER_ROUND = 20;
const CONCURRENCY = 4;
/**
 * Sign-ins each broker (and the floor) serves before it is measured (JSM_SSO_BENCH_SIGNIN_WARM_UP):
 * a broker just started runs its code in V8's interpreter and spends CPU compiling it for a
 * thousand sign-ins or so, and its CPU per sign-in falls by about half over them (ADR 0210); the
 * functions a sign-in calls once are optimised by TurboFan only around sign-in 3,000 (docs/perf,
 * 2026-12-06), so 4,000. The figure is that of a broker serving, as in production; the first
 * sign-ins' cost is reported beside it.
 */
export const WARM_UP_SIGN_INS = Number(process.env['JSM_SSO_BENCH_SIGNIN_WARM_UP'] ?? 4000);
/** The first sign-ins after start, whose CPU is the `cold` figure (the old bench measured these). */
const COLD_SIGN_INS = 120;

export async function benchSigninCost(): Promise<Record<string, number | string>> {
  const ca = makeTestCa('jsm-sso bench CA');
  const idpTls = ca.issue({ hosts: ['127.0.0.1'] });
  // The browsers in this process reach the HTTPS IdP through the test CA.
  const previousDispatcher = getGlobalDispatcher();
  const browserAgent = new Agent({ connect: { ca: [ca.caPem] } });
  setGlobalDispatcher(browserAgent);
  const scenarios: Scenario[] = [];
  const idps: DevIdp[] = [];
  const redises: LocalRedis[] = [];
  let floor: FloorBroker | undefined;
  try {
    const builds = [
      { suffix: '', entry: BROKER_ENTRY.args },
      ...(BASELINE_ENTRY ? [{ suffix: '_baseline', entry: [BASELINE_ENTRY] }] : []),
    ];
    for (const keyType of ['rsa', 'ec'] as const) {
      for (const transport of ['http', 'https'] as const) {
        for (const { suffix, entry } of builds) {
          const scenario = await startScenario(
            keyType,
            transport,
            idpTls,
            ca.caPem,
            (idp) => idps.push(idp),
            [],
            entry,
          );
          scenarios.push({ ...scenario, name: `${scenario.name}${suffix}` });
        }
      }
    }
    for (const variant of VARIANTS) {
      for (const { suffix, entry } of builds) {
        const redis = variant.redis ? await startLocalRedis() : undefined;
        if (redis) redises.push(redis);
        const scenario = await startScenario(
          'rsa',
          'https',
          idpTls,
          ca.caPem,
          (idp) => idps.push(idp),
          variant.nodeFlags,
          entry,
          redis,
        );
        scenarios.push({ ...scenario, name: `${scenario.name}${variant.suffix}${suffix}` });
      }
    }
    floor = await startFloorBroker(ca.caPem, idpTls);
    const coldCpuMs = new Map<string, number>();
    for (const scenario of scenarios) {
      await signIns(scenario, CONCURRENCY); // discovery
      const start = await brokerCpuMs(scenario);
      await signIns(scenario, COLD_SIGN_INS);
      coldCpuMs.set(scenario.name, ((await brokerCpuMs(scenario)) - start) / COLD_SIGN_INS);
      await signIns(scenario, Math.max(0, WARM_UP_SIGN_INS - COLD_SIGN_INS - CONCURRENCY));
    }
    await floor.signIns(WARM_UP_SIGN_INS, CONCURRENCY);
    let floorCpuMs = 0;
    const cpuMs = new Map<string, number>(scenarios.map((s) => [s.name, 0]));
    const count = new Map<string, number>(scenarios.map((s) => [s.name, 0]));
    const commands = new Map<string, number>(scenarios.map((s) => [s.name, 0]));
    let rawCpuMs = 0;
    let rawSigns = 0;
    const rsaKey = createPrivateKey(makeKeyPair('bench-raw', 'rsa').keyPem);
    const data = randomBytes(256);
    for (let round = 0; round < ROUNDS; round++) {
      const before = process.cpuUsage();
      for (let i = 0; i < 100; i++) sign('sha256', data, rsaKey);
      const used = process.cpuUsage(before);
      rawCpuMs += (used.user + used.system) / 1000;
      rawSigns += 100;
      // Every other round in reverse: a build measured just after another (or first in a round) meets
      // a slightly different machine, and that must not always be the same build.
      for (const scenario of round % 2 === 0 ? scenarios : [...scenarios].reverse()) {
        const commandsBefore = (await scenario.redisCommands?.()) ?? 0;
        const start = await brokerCpuMs(scenario);
        await signIns(scenario, SIGN_INS_PER_ROUND);
        cpuMs.set(scenario.name, cpuMs.get(scenario.name)! + (await brokerCpuMs(scenario)) - start);
        const commandsAfter = (await scenario.redisCommands?.()) ?? 0;
        commands.set(scenario.name, commands.get(scenario.name)! + commandsAfter - commandsBefore);
        count.set(scenario.name, count.get(scenario.name)! + SIGN_INS_PER_ROUND);
      }
      const floorStart = await floor.cpuMs();
      await floor.signIns(SIGN_INS_PER_ROUND, CONCURRENCY);
      floorCpuMs += (await floor.cpuMs()) - floorStart;
    }
    const rawMs = rawCpuMs / rawSigns;
    const floorPerSignIn = floorCpuMs / (ROUNDS * SIGN_INS_PER_ROUND);
    const figures: Record<string, number> = {
      'signin.warm_up_sign_ins': WARM_UP_SIGN_INS,
      'signin.raw_rsa2048_sign_cpu_ms': round3(rawMs),
      'signin.floor_cpu_ms_per_sign_in_rsa2048_https_idp': round3(floorPerSignIn),
      'signin.ratio_floor_cpu_per_sign_in_to_raw_rsa2048_sign': round3(floorPerSignIn / rawMs),
    };
    for (const scenario of scenarios) {
      const perSignIn = cpuMs.get(scenario.name)! / count.get(scenario.name)!;
      figures[`signin.broker_cpu_ms_per_sign_in_${scenario.name}`] = round3(perSignIn);
      figures[`signin.ratio_broker_cpu_per_sign_in_to_raw_rsa2048_sign_${scenario.name}`] = round3(
        perSignIn / rawMs,
      );
      figures[`signin.cold_broker_cpu_ms_per_sign_in_${scenario.name}`] = round3(
        coldCpuMs.get(scenario.name)!,
      );
      if (scenario.redisCommands)
        figures[`signin.redis_commands_per_sign_in_${scenario.name}`] = round3(
          commands.get(scenario.name)! / count.get(scenario.name)!,
        );
    }
    if (BASELINE_ENTRY) {
      for (const scenario of scenarios.filter((s) => !s.name.endsWith('_baseline'))) {
        const perSignIn = (name: string) => cpuMs.get(name)! / count.get(name)!;
        figures[`signin.ratio_to_baseline_${scenario.name}`] = round3(
          perSignIn(scenario.name) / perSignIn(`${scenario.name}_baseline`),
        );
      }
    }
    return figures;
  } finally {
    for (const scenario of scenarios) await scenario.stop();
    await floor?.stop();
    for (const idp of idps) await idp.close();
    for (const redis of redises) await redis.stop();
    setGlobalDispatcher(previousDispatcher);
    await browserAgent.close();
    ca.cleanup();
  }
}

function round3(value: number): number {
  return Number(value.toFixed(3));
}

export async function startScenario(
  keyType: 'rsa' | 'ec',
  transport: 'http' | 'https',
  idpTls: { keyPem: string; certPem: string },
  caPem: string,
  keepIdp: (idp: DevIdp) => void,
  nodeFlags: string[] = [],
  entry: string[] = BROKER_ENTRY.args,
  redis?: LocalRedis,
  launcher: string[] = [],
): Promise<Scenario> {
  const pki = createPki();
  if (keyType === 'ec') {
    useSigningKey(pki, 'broker', makeKeyPair('bench broker', 'ec'));
    useSigningKey(pki, 'portal', makeKeyPair('bench portal', 'ec'));
  }
  const publicUrl = await listenPlaceholder();
  publicUrl.server.close();
  const idp = await startDevIdp({
    clients: [devClient(publicUrl.url)],
    ...(transport === 'https' ? { tls: { key: idpTls.keyPem, cert: idpTls.certPem } } : {}),
  });
  keepIdp(idp);
  mkdirSync(join(pki.dir, 'idp-ca'));
  writeFileSync(join(pki.dir, 'idp-ca', 'ca.crt'), caPem);
  const algorithm: HopSignatureAlgorithm = keyType === 'rsa' ? 'rsa-sha256' : 'ecdsa-sha256';
  const idpDoc = oidcIdp('corporate', idp.issuer);
  if (transport === 'https') idpDoc['oidc'].caBundleSecretRef = { name: 'idp-ca' };
  if (redis) {
    mkdirSync(join(pki.dir, 'redis'));
    writeFileSync(join(pki.dir, 'redis', 'url'), redis.url);
  }
  const tenant = tenantFor(publicUrl.url, [idpDoc], (spec) => {
    spec.signatureAlgorithm = algorithm;
    if (redis) spec.redis = { urlSecretRef: { name: 'redis' } };
  });
  const configFile = join(pki.dir, 'tenant.yaml');
  writeFileSync(configFile, stringify(tenant));
  // The broker serves on the port the placeholder held, so its public URL is its address.
  const broker = await spawnBroker(
    configFile,
    pki,
    Number(new URL(publicUrl.url).port),
    nodeFlags,
    entry,
    launcher,
  );
  return {
    pid: broker.child.pid!,
    name: `${keyType === 'rsa' ? 'rsa2048' : 'ecdsa_p256'}_${transport}_idp`,
    brokerUrl: broker.url,
    managementUrl: broker.managementUrl,
    portal: portalOf(publicUrl.url, pki, algorithm),
    ...(redis ? { redisCommands: () => flowStoreCommands(redis.url) } : {}),
    stop: async () => {
      broker.child.kill('SIGTERM');
      await new Promise((resolve) => broker.child.once('exit', resolve));
      pki.cleanup();
    },
  };
}

/** The real portal's SAML code: signs the AuthnRequest and checks every Response. */
function portalOf(brokerUrl: string, pki: Pki, signatureAlgorithm: HopSignatureAlgorithm): ServiceProvider {
  return new ServiceProvider({
    portalUrl: PORTAL_URL,
    brokerUrl,
    signingKeyPem: pki.portalKey,
    signingCertPem: pki.portalCert,
    brokerCertificates: { kind: 'configured', certificates: async () => [pki.brokerCert] },
    replayStore: new MemoryFlowStore(),
    signatureAlgorithm,
  });
}

/** `total` full sign-ins, `CONCURRENCY` at a time, each Response checked by the portal's code. */
export async function signIns(scenario: Scenario, total: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      const browser = new Browser();
      const { url, requestId } = scenario.portal.authnRedirect();
      const sso = await browser.request(url);
      if (sso.status !== 302) throw new Error(`broker answered ${sso.status}: ${await sso.text()}`);
      const { fields } = await loginAtDevIdp(browser, new URL(sso.headers.get('location')!, url).href, {
        brokerUrl: scenario.brokerUrl,
      });
      await scenario.portal.acs(fields['SAMLResponse'], requestId);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** The broker's process CPU (user + system) from its own /metrics, in milliseconds. */
async function brokerCpuMs(scenario: Scenario): Promise<number> {
  const text = await (await fetch(`${scenario.managementUrl}/metrics`)).text();
  const value = /^process_cpu_seconds_total (\S+)/m.exec(text);
  if (!value) throw new Error('the broker /metrics has no process_cpu_seconds_total');
  return Number(value[1]) * 1000;
}

/**
 * Commands the broker's Redis has run (INFO commandstats), leaving out health pings and what this
 * reading's own connection sends (HELLO, CLIENT SETINFO, INFO): each reading opens one, and its HELLO
 * counted 1 per round, the 0.05 per sign-in of every figure until 2026-12-06. A flow-store script's
 * EVALSHA counts with the commands it runs (a slot claim: EVALSHA, MGET, SET).
 */
const NOT_FLOW_STORE_COMMANDS = new Set(['ping', 'info', 'hello', 'client|setinfo']);
async function flowStoreCommands(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const stats = await client.info('commandstats');
    let calls = 0;
    for (const [, command, n] of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm))
      if (!NOT_FLOW_STORE_COMMANDS.has(command!)) calls += Number(n);
    return calls;
  } finally {
    client.disconnect();
  }
}
