import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis, type RedisOptions } from 'ioredis';
import { Counter, Registry } from 'prom-client';
import type { KubeClient } from '../../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { MANAGED_BY } from '../../operator/resources/common.js';
import { envtest, eventually, freshNamespace, separateEnvtest } from '../../testkit/envtest.js';
import { FakeApiServer } from '../../testkit/fake-apiserver.js';
import { type LocalRedis, startLocalRedis, startLocalTlsRedis } from '../../testkit/local-redis.js';
import { checkMetricsAt, checkMetricsOf } from '../../testkit/metrics-scan.js';
import { startTestController } from '../../testkit/operator-controller.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import { checkLogLinesOf, checkOutputOf, exited, jsmSso } from '../../testkit/part-process.js';
import { PERSONAL_MARKER, personalDataIn } from '../../testkit/personal-data.js';
import { makeTestCa } from '../../testkit/pki.js';
import { scanPodLogs } from '../../testkit/pod-log-scan.js';
import { takeLeakedLogLines } from '../../testkit/recent-logs.js';
import { redisUrl } from '../../testkit/redis.js';
import { personalDataAtRest } from '../../testkit/store-scan.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * The privacy scan's channels beyond in-process log lines (ADR 0255, 0278), each shown to catch a datum
 * planted in it. The findings are taken here, so the root hook (test/failure-logs.ts) does not fail.
 */
describe('testkit: the privacy scan reads every channel a viewer or an operator of the cluster reads', function () {
  this.timeout(60_000);

  /** What was found since the last take, with the planted datum in it. */
  function found(datum: string): string[] {
    return takeLeakedLogLines().filter((line) => line.includes(datum));
  }

  describe('what is found (ADR 0340)', () => {
    it('finds what has no shape of its own once a test marks it, an Atlassian person by name, and credentials', () => {
      expect(personalDataIn(`nameId=${PERSONAL_MARKER}-7 sessionIndex=_s1`)).to.deep.equal([
        `the test value "${PERSONAL_MARKER}"`,
      ]);
      expect(personalDataIn('comment by Ian Ito (IT)')).to.deep.equal(['the test value "Ian Ito (IT)"']);
      expect(personalDataIn('token erik-dev-token refused')).to.deep.equal([
        'the test value "erik-dev-token"',
      ]);
      const basic = Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64');
      expect(personalDataIn(`authorization: Basic ${basic}`)).to.deep.equal([
        'credentials of an Authorization header',
      ]);
      expect(personalDataIn('"authorization":"Bearer 4Yq9-opaque.token_x7Hq2"')).to.deep.equal([
        'credentials of an Authorization header',
      ]);
      expect(personalDataIn('the Bearer scheme, a Basic realm')).to.deep.equal([]);
    });
  });

  describe("a part's metrics", () => {
    it('finds a marked value in a label', async () => {
      const registry = new Registry();
      new Counter({ name: 'planted_total', help: 'planted', labelNames: ['idp'], registers: [registry] }).inc(
        {
          idp: `${PERSONAL_MARKER}-idp`,
        },
      );
      await checkMetricsOf(registry, 'planted part');
      expect(found(`${PERSONAL_MARKER}-idp`)).to.have.length(1);
    });

    it("finds a marked value in a label of a process's /metrics, read over HTTP as Prometheus reads it", async () => {
      const server = createServer((_req, res) =>
        res.end(`# TYPE planted_total counter\nplanted_total{idp="${PERSONAL_MARKER}-process"} 1\n`),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as AddressInfo;
        await checkMetricsAt(`http://127.0.0.1:${port}`, 'planted process');
        expect(found(`${PERSONAL_MARKER}-process`)).to.have.length(1);
      } finally {
        server.close();
      }
    });
  });

  describe("a child process's output", () => {
    it('finds an address in a line of stdout that is not JSON', async () => {
      const child = spawn(process.execPath, ['-e', 'console.log("mailed carol@acme.test")'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      checkOutputOf(child);
      await once(child, 'close');
      expect(found('carol@acme.test')).to.have.length(1);
    });

    it('finds a token in the last line of stderr, written without a newline', async () => {
      const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2ln';
      const child = spawn(process.execPath, ['-e', `process.stderr.write("token ${jwt}")`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      checkOutputOf(child);
      await once(child, 'close');
      expect(found(jwt)).to.have.length(1);
    });

    it("finds an address in a part's JSON log line as `npm start` writes it, behind the part's name", async () => {
      const lines = ['[jsm-emulator/acme] {"msg":"mailed kim@acme.test"}', '[dev] Sign in as lou@acme.test'];
      const child = spawn(process.execPath, ['-e', `console.log(${JSON.stringify(lines.join('\n'))})`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      checkLogLinesOf(child);
      await once(child, 'close');
      expect(found('kim@acme.test')).to.have.length(1);
      // The banner names the doubles' fixed test people for the developer: no log line.
      expect(found('lou@acme.test')).to.deep.equal([]);
    });

    it('finds what a jsm-sso part writes to stderr (its usage error quoting the command)', async () => {
      const { code } = await exited(jsmSso(['frobnicate-dave@acme.test']));
      expect(code).to.equal(2);
      expect(found('dave@acme.test')).to.have.length.greaterThan(0);
    });

    it('finds what an operator process writes to stderr (its start-up error naming the kubeconfig)', async () => {
      const operator = spawnOperator({
        kubeconfig: '/nonexistent/erin@acme.test',
        namespace: 'none',
        port: 0,
        pipeLog: true,
      });
      const { code } = await exited(operator);
      expect(code).to.equal(1);
      expect(found('erin@acme.test')).to.have.length.greaterThan(0);
    });
  });

  describe("a container log of a pod under runc (the kubelet's podLogsDir)", () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'jsm-sso-pod-logs-'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    /** A container's log file as the kubelet lays it out, with `lines` in the CRI log format. */
    const containerLog = (pod: string, lines: string[]) => {
      const dir = join(root, `signin_${pod}_0b1c`, 'broker');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, '0.log');
      writeFileSync(file, lines.map((line) => `2026-12-05T15:00:00.000000000Z ${line}\n`).join(''));
      return file;
    };

    it('finds an address in a line of stdout, and a token cut between two parts of a line on stderr', () => {
      const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJoZWlkaSJ9.c2ln';
      const stop = scanPodLogs(root);
      containerLog('acme-broker-1', [
        'stdout F {"level":30,"msg":"signed in heidi@acme.test"}',
        `stderr P token ${jwt.slice(0, 20)}`,
        `stderr F ${jwt.slice(20)} refused`,
      ]);
      stop();
      const leaks = takeLeakedLogLines();
      expect(leaks.filter((line) => line.includes('heidi@acme.test'))).to.have.length(1);
      expect(leaks.filter((line) => line.includes(jwt))).to.have.length(1);
    });

    it('reads on from where it was, while the cluster runs, and the last line written without a newline', async () => {
      const stop = scanPodLogs(root, 10);
      const file = containerLog('acme-portal-1', ['stdout F {"msg":"up"}']);
      appendFileSync(file, '2026-12-05T15:00:01.000000000Z stdout F mailed ivan@acme.test\n');
      await eventually(async () => found('ivan@acme.test').length === 1, 'the finding while it runs');
      appendFileSync(file, '2026-12-05T15:00:02.000000000Z stdout F mailed judy@acme.test');
      stop();
      expect(found('judy@acme.test')).to.have.length(1);
      expect(found('ivan@acme.test')).to.deep.equal([]);
    });

    it('reads a log the kubelet rotated (a new, shorter file in its place) from its start', async () => {
      const stop = scanPodLogs(root, 10);
      const file = containerLog('acme-portal-2', [
        'stdout F {"msg":"a line longer than the next file, for nina@acme.test"}',
      ]);
      await eventually(async () => found('nina@acme.test').length === 1, 'the first file read');
      writeFileSync(file, '2026-12-05T15:00:03.000000000Z stdout F to mia@acme.test\n');
      stop();
      expect(found('mia@acme.test')).to.have.length(1);
    });
  });

  describe("a test's own Redis, as it stops", () => {
    /** Sets a key holding an address in `redis`, stops it, and returns what was found. */
    const plantedAndStopped = async (redis: LocalRedis, options: RedisOptions = {}) => {
      const client = new Redis(redis.url, options);
      try {
        await client.set('privacy-scan:flow', JSON.stringify({ email: 'kim@acme.test' }));
      } finally {
        client.disconnect();
      }
      await redis.stop();
      return found('kim@acme.test');
    };

    it('finds an address at rest in a plain Redis', async () => {
      expect(await plantedAndStopped(await startLocalRedis())).to.have.length(1);
    });

    it('finds an address at rest in a TLS Redis that requires a client certificate', async () => {
      const ca = makeTestCa();
      try {
        const file = (name: string, pem: string) => {
          writeFileSync(join(ca.dir, name), pem);
          return join(ca.dir, name);
        };
        const server = ca.issue({ hosts: ['127.0.0.1'] });
        const client = ca.issue({ hosts: ['privacy-scan'], client: true });
        const tls = {
          certFile: file('server.crt', server.certPem),
          keyFile: file('server.key', server.keyPem),
          caFile: file('ca.pem', ca.caPem),
          authClients: 'yes' as const,
          client: {
            certFile: file('client.crt', client.certPem),
            keyFile: file('client.key', client.keyPem),
          },
        };
        const redis = await startLocalTlsRedis(tls);
        expect(
          await plantedAndStopped(redis, { tls: { ca: ca.caPem, cert: client.certPem, key: client.keyPem } }),
        ).to.have.length(1);
      } finally {
        ca.cleanup();
      }
    });
  });

  describe('what the API server shows anyone with view RBAC', () => {
    /** Creates an Event whose note holds `note` in a fresh namespace. */
    const plantEvent = async (client: KubeClient, note: string) => {
      const namespace = await freshNamespace(client, 'privacy');
      await client.create(collectionPath(KINDS.event, namespace), {
        apiVersion: KINDS.event.apiVersion,
        kind: 'Event',
        metadata: { generateName: 'planted-', namespace },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'jsm-sso.io/tests',
        reportingInstance: 'tests',
        action: 'Reconcile',
        type: 'Warning',
        reason: 'Planted',
        note,
        regarding: { apiVersion: 'v1', kind: 'ConfigMap', name: 'planted', namespace },
      });
    };

    it("finds an address in an Event's note", async () => {
      await plantEvent((await envtest()).client, 'refused frank@acme.test');
      await eventually(async () => found('frank@acme.test').length === 1, 'the finding');
    });

    it("finds an address in an Event's note on an API server of the test's own", async () => {
      const own = separateEnvtest([]);
      try {
        await eventually(async () => (await own.client.get('/version')) !== undefined, 'its API server');
        await plantEvent(own.client, 'refused leo@acme.test');
        await eventually(async () => found('leo@acme.test').length === 1, 'the finding');
      } finally {
        own.stop();
      }
    });

    it("finds a secret in a tenant's status on the fault-injecting fake API server", async () => {
      const fake = await FakeApiServer.start();
      try {
        const tenants = collectionPath(KINDS.tenant, 'acme');
        fake.put(tenants, {
          ...tenantObject('acme', 'acme'),
          metadata: { name: 'acme', namespace: 'acme' },
          status: { conditions: [{ type: 'Ready', status: 'False', message: 'refused dev-api-token' }] },
        });
        expect(found('dev-api-token')).to.have.length(1);
      } finally {
        await fake.close();
      }
    });

    it('finds a secret in an object the operator makes (by its label), not in one a test makes', async () => {
      const { client } = await envtest();
      const namespace = await freshNamespace(client, 'privacy');
      const configMap = (name: string, labels: Record<string, string>) =>
        client.create(collectionPath(KINDS.configMap, namespace), {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace, labels },
          data: { 'tenant.yaml': `clientSecret: ${PERSONAL_MARKER}-${name}` },
        });
      await configMap('tests-own', {});
      await configMap('operators', { 'app.kubernetes.io/managed-by': MANAGED_BY });
      await eventually(async () => found(`${PERSONAL_MARKER}-operators`).length === 1, 'the finding');
      expect(found(`${PERSONAL_MARKER}-tests-own`)).to.deep.equal([]);
    });

    it('finds what an operator in the test process logs, wherever the test sends its lines', async () => {
      const env = await envtest();
      const lines: string[] = [];
      const { controller, client, logger } = await startTestController(env, {
        namespace: await freshNamespace(env.client, 'privacy'),
        instance: 'privacy',
        logDestination: { write: (line: string) => void lines.push(line) },
      });
      try {
        logger.warn({ event: 'planted', detail: `${PERSONAL_MARKER}-operator` }, 'planted');
        expect(found(`${PERSONAL_MARKER}-operator`)).to.have.length(1);
        expect(lines.join(''), 'and the test still reads it').to.include(`${PERSONAL_MARKER}-operator`);
      } finally {
        await controller.stop();
        client.close();
      }
    });

    it("finds a secret in a tenant's status condition", async () => {
      const env = await envtest();
      const namespace = await freshNamespace(env.client, 'privacy');
      await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'acme'));
      await env.client.request('PATCH', `${objectPath(KINDS.tenant, namespace, 'acme')}/status`, {
        body: {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'False',
                reason: 'Planted',
                message: 'the API token dev-api-token was refused',
                lastTransitionTime: new Date().toISOString().replace(/\.\d+/, ''),
              },
            ],
          },
        },
        contentType: 'application/merge-patch+json',
      });
      await eventually(async () => found('dev-api-token').length === 1, 'the finding');
    });
  });

  describe('the store at rest', () => {
    it('finds an address in a value, and a name in a hash, once each', async () => {
      const redis = new Redis(redisUrl());
      const prefix = `privacy-scan-${process.pid}`;
      try {
        await redis.set(`${prefix}:string`, JSON.stringify({ email: 'grace@acme.test' }), 'EX', 60);
        await redis.hset(`${prefix}:hash`, 'name', 'Alice Anders');
        await redis.expire(`${prefix}:hash`, 60);
        const first = await personalDataAtRest(redisUrl());
        expect(first.filter((f) => f.includes(prefix))).to.have.members([
          `an e-mail address: ${prefix}:string = {"email":"grace@acme.test"}`,
          `the test value "Alice Anders": ${prefix}:hash = {"name":"Alice Anders"}`,
        ]);
        expect((await personalDataAtRest(redisUrl())).filter((f) => f.includes(prefix))).to.deep.equal([]);
      } finally {
        await redis.del(`${prefix}:string`, `${prefix}:hash`);
        redis.disconnect();
      }
    });
  });
});
