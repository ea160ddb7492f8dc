// The operator's start when it cannot reach its API server, or is refused there (ADR 0332): a failure
// no wait heals (a token refused, RBAC missing, no kubeconfig) ends the process with one coded line
// and exit 1, not a Node stack; an API server that does not answer yet is waited for, and said so.
// Real processes against the real kube-apiserver; the one fault it cannot make (its port refusing
// connections, then answering) is a loopback forwarder in front of it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { admissionPolicy } from '../../testkit/admission-policy.js';
import {
  type Envtest,
  envtest,
  eventually,
  freshNamespace,
  installCrd,
  runScript,
  separateEnvtest,
} from '../../testkit/envtest.js';
import {
  flowSchemaInForce,
  seatlessPriorityLevel,
  serviceAccountFlowSchema,
} from '../../testkit/flow-control.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import { exited, listening, onLogLine } from '../../testkit/part-process.js';

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { user: Record<string, unknown> }[];
}

/** The test cluster's kubeconfig with `change` made, in a file of its own. */
function kubeconfigWith(env: Envtest, change: (config: Kubeconfig) => void): string {
  const config = parse(readFileSync(env.kubeconfigPath, 'utf8')) as Kubeconfig;
  change(config);
  const path = join(mkdtempSync(join(tmpdir(), 'jsm-sso-start-')), 'kubeconfig');
  writeFileSync(path, stringify(config));
  return path;
}

/** Exit 1 and stderr one line ending with `[code]`: what an engineer reads, no stack. */
async function expectOneCodedLine(operator: ChildProcess, code: string): Promise<string> {
  operator.stdout!.resume();
  const ended = await exited(operator);
  expect(ended.code).to.equal(1);
  const lines = ended.stderr.trimEnd().split('\n');
  expect(lines, ended.stderr).to.have.lengthOf(1);
  expect(lines[0]).to.match(new RegExp(`\\[${code}\\]$`));
  return lines[0]!;
}

/** Every JSON log line `child` writes with event `event`, as they come. */
function linesOf(child: ChildProcess, event: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  onLogLine(child, (line) => {
    if (line['event'] === event) lines.push(line);
  });
  return lines;
}

describe('operator: start failures (real kube-apiserver, real process)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let team: string;

  before(async () => {
    env = await envtest();
  });
  beforeEach(async () => {
    team = await freshNamespace(env.client, 'start');
  });

  /** The operator on `kubeconfig`, its info lines on stdout; `ended` once it has exited. */
  function operatorWith(kubeconfig: string): { operator: ChildProcess; ended: ReturnType<typeof exited> } {
    const operator = spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true, logLevel: 'info' });
    return { operator, ended: exited(operator) };
  }

  it('a token the API server refuses (401) is one line OPERATOR_API_ACCESS_DENIED and exit 1', async () => {
    const kubeconfig = kubeconfigWith(env, (c) => {
      c.users[0]!.user = { token: 'not-a-token-the-api-server-knows' };
    });
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true }),
      'OPERATOR_API_ACCESS_DENIED',
    );
    expect(line).to.include('401 Unauthorized').and.include('token is invalid or expired');
  });

  it('a service account without RBAC (403 on the hash key Secret) is one line OPERATOR_API_ACCESS_DENIED and exit 1', async () => {
    await env.client.create(collectionPath(KINDS.serviceAccount, team), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'no-role', namespace: team },
    });
    const granted = await env.client.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${team}/serviceaccounts/no-role/token`,
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } },
    );
    const kubeconfig = kubeconfigWith(env, (c) => {
      c.users[0]!.user = { token: granted.status.token };
    });
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true }),
      'OPERATOR_API_ACCESS_DENIED',
    );
    expect(line).to.include('403 Forbidden').and.include('lacks get or create on Secrets');
  });

  // An admission policy or a quota refusing the Secret's creation is no lack of RBAC, and no more healed
  // by a wait: the API server's words say which policy, the line says nothing else.
  for (const [reason, status] of [
    ['Invalid', '422 Invalid'],
    ['Forbidden', '403 Forbidden'],
  ] as const) {
    it(`an admission policy refusing its hash key Secret (${status}) is one line OPERATOR_API_ACCESS_DENIED and exit 1`, async () => {
      // The operator's own namespace out of a pod: POD_NAMESPACE, else default (operator/cli.ts).
      const own = process.env['POD_NAMESPACE'] ?? 'default';
      const name = `${team}-hash-key`;
      const secrets = collectionPath(KINDS.secret, own);
      const policy = await admissionPolicy(env.client, {
        name: `${team}-no-hash-key`,
        namespace: own,
        rule: { apiGroups: [''], resources: ['secrets'], operations: ['CREATE'] },
        expression: `object.metadata.name != '${name}'`,
        message: 'no hash key here, by policy',
        reason,
        refused: () =>
          env.client.create(
            secrets,
            { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: own } },
            { dryRun: 'All' },
          ),
      });
      try {
        const line = await expectOneCodedLine(
          spawnOperator({
            kubeconfig: env.kubeconfigPath,
            namespace: team,
            port: 0,
            pipeLog: true,
            args: ['--hash-key-secret', name],
          }),
          'OPERATOR_API_ACCESS_DENIED',
        );
        expect(line).to.include(status).and.include('no hash key here, by policy');
        expect(line).not.to.include('lacks get or create');
      } finally {
        await policy.remove();
      }
    });
  }

  it('no kubeconfig out of a cluster is one line CLUSTER_ACCESS_MISSING and exit 1', async () => {
    // An empty --kubeconfig is none: the service account's, which this process has not.
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig: '', namespace: team, port: 0, pipeLog: true }),
      'CLUSTER_ACCESS_MISSING',
    );
    expect(line).to.include('not in a cluster');
  });

  it('a kubeconfig file that is not there is one line CLUSTER_ACCESS_MISSING and exit 1', async () => {
    const kubeconfig = join(tmpdir(), `jsm-sso-no-kubeconfig-${process.pid}`);
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true }),
      'CLUSTER_ACCESS_MISSING',
    );
    expect(line).to.include(kubeconfig).and.include('ENOENT');
  });

  // What the kubeconfig names beside itself is read as the kubeconfig is: a file not there is the
  // kubeconfig's fault, said in one line, never taken for an API server that does not answer (no
  // request was sent) nor a stack.
  for (const [what, change] of [
    ['token file', (c: Kubeconfig, missing: string) => (c.users[0]!.user = { tokenFile: missing })],
    [
      'client certificate',
      (c: Kubeconfig, missing: string) =>
        (c.users[0]!.user = { 'client-certificate': missing, 'client-key': missing }),
    ],
    [
      'CA file',
      (c: Kubeconfig, missing: string) => {
        const { server } = c.clusters[0]!.cluster;
        c.clusters[0]!.cluster = { server, 'certificate-authority': missing } as { server: string };
      },
    ],
  ] as const) {
    it(`a kubeconfig whose ${what} is not there is one line CLUSTER_ACCESS_MISSING and exit 1`, async () => {
      const missing = join(tmpdir(), `jsm-sso-no-${what.replaceAll(' ', '-')}-${process.pid}`);
      const operator = spawnOperator({
        kubeconfig: kubeconfigWith(env, (c) => change(c, missing)),
        namespace: team,
        port: 0,
        pipeLog: true,
        logLevel: 'info',
      });
      // Taken for an API server that does not answer, it would wait for ever: stopped at its first wait.
      onLogLine(operator, (line) => {
        if (line['event'] === 'operator.api_unreachable') operator.kill('SIGKILL');
      });
      const line = await expectOneCodedLine(operator, 'CLUSTER_ACCESS_MISSING');
      expect(line).to.include(missing).and.include('ENOENT');
    });
  }

  it('waits for an API server that refuses connections at start, saying so, and starts once it answers', async () => {
    const front = await apiServerFront(env);
    const { operator, ended } = operatorWith(front.kubeconfig);
    try {
      const waits = linesOf(operator, 'operator.api_unreachable');
      const { management } = await listening(operator, ['management']);
      await eventually(async () => waits.length >= 2, 'two waits for the API server, said');
      expect(waits[0]).to.include({ level: 'warn', reason: 'OPERATOR_API_UNREACHABLE', attempt: 1 });
      expect(operator.exitCode, 'still running').to.equal(null);
      expect((await fetch(`${management}/readyz`)).status).to.equal(503);

      front.answer();
      await eventually(async () => (await fetch(`${management}/readyz`)).status === 200, 'ready');
    } finally {
      operator.kill('SIGTERM');
      await ended;
      await front.close();
    }
  });

  it('waits while API Priority and Fairness rejects it at start (429 past the client retries), saying so with a code and by Retry-After, and starts once admitted', async () => {
    const level = await rejectingFlow(env, team);
    const hold = holdSeat(env, level.token, team);
    let started: ReturnType<typeof operatorWith> | undefined;
    try {
      // Started once the seat is held: its first request is rejected, not let through.
      await eventually(async () => executing(env, level.flowSchema) > 0, "the level's one seat held");
      started = operatorWith(level.kubeconfig);
      const { operator, ended } = started;
      const waits = linesOf(operator, 'operator.api_throttled');
      const exit = ended.then((e) => `exited ${e.code}: ${e.stderr}`);
      const { management } = await listening(operator, ['management']);
      const first = await Promise.race([
        eventually(async () => waits[0], 'a wait for the API server to admit it, said', 90_000),
        exit,
      ]);
      expect(first, String(first)).to.include({
        level: 'warn',
        reason: 'OPERATOR_API_THROTTLED',
        attempt: 1,
      });
      // The API server's Retry-After (1 s at least) over the 0.5 s of a first wait for no answer.
      expect((first as Record<string, unknown>)['retryInMs']).to.be.at.least(1_000);
      expect((await fetch(`${management}/readyz`)).status).to.equal(503);

      await level.lift();
      hold.release();
      await eventually(async () => (await fetch(`${management}/readyz`)).status === 200, 'ready', 60_000);
    } finally {
      hold.release();
      started?.operator.kill('SIGTERM');
      await started?.ended;
      await level.remove();
    }
  });

  it('waits for its CRDs on a cluster without them, saying so with a reason code, and is ready once they are installed', async () => {
    // A cluster of its own: the shared one has the CRDs.
    const bare = separateEnvtest([]);
    const { operator, ended } = operatorWith(bare.kubeconfigPath);
    try {
      const failed = linesOf(operator, 'informer.failed');
      const { management } = await listening(operator, ['management']);
      const notServed = await eventually(
        async () => failed.find((l) => String(l['path']).endsWith('/jsmssotenants')),
        'the tenant list failing',
      );
      expect(notServed).to.include({ level: 'warn', reason: 'INFORMER_LIST_WATCH_FAILED', status: 404 });
      expect(operator.exitCode, 'still running').to.equal(null);
      expect((await fetch(`${management}/readyz`)).status).to.equal(503);

      await installCrd(bare.client);
      // The informers list again after their backoff, at most 30 s (and its jitter) by then.
      await eventually(async () => (await fetch(`${management}/readyz`)).status === 200, 'ready', 60_000);
    } finally {
      operator.kill('SIGTERM');
      await ended;
      bare.client.close();
      bare.stop();
    }
  });

  it('exits at once on SIGTERM while it waits for the API server (as PID 1 an unhandled one is ignored)', async () => {
    const front = await apiServerFront(env);
    const { operator, ended } = operatorWith(front.kubeconfig);
    const stopped: Record<string, unknown>[] = [];
    let waited!: () => void;
    const waiting = new Promise<void>((resolve) => {
      waited = resolve;
    });
    onLogLine(operator, (line) => {
      if (line['event'] === 'operator.api_unreachable') waited();
      if (line['event'] === 'process.stopped_while_starting') stopped.push(line);
    });
    try {
      await waiting;
      operator.kill('SIGTERM');
      expect((await ended).code).to.equal(143);
      expect(stopped).to.have.lengthOf(1);
    } finally {
      operator.kill('SIGKILL');
      await front.close();
    }
  });
});

/**
 * A kubeconfig for a loopback front of the test cluster's API server that closes every connection at once (an API
 * server not up yet) until `answer`, then passes them on: TLS stays end to end.
 */
async function apiServerFront(
  env: Envtest,
): Promise<{ kubeconfig: string; answer(): void; close(): Promise<void> }> {
  const apiServer = new URL(
    (parse(readFileSync(env.kubeconfigPath, 'utf8')) as Kubeconfig).clusters[0]!.cluster.server,
  );
  let answering = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const front: Server = createServer((inbound) => {
    track(inbound);
    if (!answering) return void inbound.destroy();
    const outbound = connect({ host: apiServer.hostname, port: Number(apiServer.port) });
    track(outbound);
    outbound.once('error', () => inbound.destroy());
    inbound.once('error', () => outbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    kubeconfig: kubeconfigWith(env, (c) => {
      c.clusters[0]!.cluster.server = `https://127.0.0.1:${(front.address() as { port: number }).port}`;
    }),
    answer: () => {
      answering = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => front.close(resolve));
    },
  };
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/**
 * A ServiceAccount of `team` (cluster-admin) whose requests API Priority and Fairness puts in a
 * priority level of no seats that rejects (429 with Retry-After) what does not fit: the API server
 * then runs one request of the level at a time. Its kubeconfig and token; `lift` ends the throttling,
 * `remove` the account's access too.
 */
async function rejectingFlow(
  env: Envtest,
  team: string,
): Promise<{
  kubeconfig: string;
  token: string;
  flowSchema: string;
  lift(): Promise<void>;
  remove(): Promise<void>;
}> {
  const name = `${team}-throttled`;
  await env.client.create(collectionPath(KINDS.serviceAccount, team), {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'throttled', namespace: team },
  });
  await env.client.create(`${RBAC}/clusterrolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'throttled', namespace: team }],
  });
  // The schema first: deleted first, its requests do not meet a level gone.
  const flow = [
    await serviceAccountFlowSchema(env.client, name, name, { name: 'throttled', namespace: team }),
    await seatlessPriorityLevel(env.client, name),
  ];
  await eventually(() => flowSchemaInForce(env.client, name), 'the FlowSchema in force');
  const granted = await env.client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${team}/serviceaccounts/throttled/token`,
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } },
  );
  const token = granted.status.token;
  return {
    kubeconfig: kubeconfigWith(env, (c) => {
      c.users[0]!.user = { token };
    }),
    token,
    flowSchema: name,
    lift: async () => {
      for (const path of flow) await env.client.delete(path);
    },
    remove: async () => {
      for (const path of [...flow, `${RBAC}/clusterrolebindings/${name}`]) await env.client.delete(path);
    },
  };
}

/**
 * Holds the priority level's one seat with a create whose body never comes: the API server admits
 * the request (APF judges it before its body is read) and runs it until the body ends, past its own
 * 60 s request timeout too, so every other request of the level is rejected until `release`: one
 * request, no gap between two holds for the operator's to slip through.
 */
function holdSeat(env: Envtest, token: string, team: string): { release(): void } {
  const config = parse(readFileSync(env.kubeconfigPath, 'utf8')) as Kubeconfig & {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
  };
  const cluster = config.clusters[0]!.cluster;
  const held: ClientRequest = request(`${cluster.server}/api/v1/namespaces/${team}/configmaps`, {
    method: 'POST',
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64'),
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'Content-Length': '1024',
    },
  });
  held.on('error', () => undefined); // the release destroys it
  held.write('{');
  return { release: () => held.destroy() };
}

/** The requests of `flowSchema` the API server runs now, by its own metric. */
function executing(env: Envtest, flowSchema: string): number {
  return runScript(env, 'kubectl get --raw /metrics')
    .stdout.split('\n')
    .filter(
      (line) =>
        line.startsWith('apiserver_flowcontrol_current_executing_requests{') &&
        line.includes(`flow_schema="${flowSchema}"`),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
