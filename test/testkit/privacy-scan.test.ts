import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import { checkOutputOf, exited, jsmSso } from '../../testkit/part-process.js';
import { takeLeakedLogLines } from '../../testkit/recent-logs.js';
import { redisUrl } from '../../testkit/redis.js';
import { personalDataAtRest } from '../../testkit/store-scan.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * The privacy scan's channels beyond in-process log lines (ADR 0255), each shown to catch a datum
 * planted in it. The findings are taken here, so the root hook (test/failure-logs.ts) does not fail.
 */
describe('testkit: the privacy scan reads every channel a viewer or an operator of the cluster reads', function () {
  this.timeout(60_000);

  /** What was found since the last take, with the planted datum in it. */
  function found(datum: string): string[] {
    return takeLeakedLogLines().filter((line) => line.includes(datum));
  }

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

  describe('what the API server shows anyone with view RBAC', () => {
    it("finds an address in an Event's note", async () => {
      const env = await envtest();
      const namespace = await freshNamespace(env.client, 'privacy');
      await env.client.create(collectionPath(KINDS.event, namespace), {
        apiVersion: KINDS.event.apiVersion,
        kind: 'Event',
        metadata: { generateName: 'planted-', namespace },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'jsm-sso.io/tests',
        reportingInstance: 'tests',
        action: 'Reconcile',
        type: 'Warning',
        reason: 'Planted',
        note: 'refused frank@acme.test',
        regarding: { apiVersion: 'v1', kind: 'ConfigMap', name: 'planted', namespace },
      });
      await eventually(async () => found('frank@acme.test').length === 1, 'the finding');
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
