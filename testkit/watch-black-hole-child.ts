// An informer watching a fake API server, both in this process, run by
// test/faults/watch-black-hole.test.ts in a network namespace of its own. Once the watch is open,
// every packet of their connection is dropped (iptables in that namespace: no reset, no FIN, as
// when a control-plane node is lost), and the process says, as a JSON line on stdout, how long the
// informer took to find its watch dead (`dropped`), then keeps running until the test ends it.
import { execFileSync } from 'node:child_process';
import { KubeClient } from '../common/kube/client.js';
import { Informer } from '../common/kube/informer.js';
import { collectionPath, KINDS } from '../operator/kube/kinds.js';
import { capturedLogger } from './captured-logs.js';
import { eventually } from './envtest.js';
import { FakeApiServer } from './fake-apiserver.js';

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const fake = await FakeApiServer.start();
const client = new KubeClient(fake.kubeConfig());
const { logger, logs } = capturedLogger({ component: 'operator' });
// The informer's defaults: a watch the server ends after 300 s, dropped when silent for 450 s.
const informer = new Informer({
  client,
  path: collectionPath(KINDS.configMap, 'blackhole'),
  logger,
  onEvent: () => {},
});
informer.start();
await informer.whenSynced();
await eventually(async () => fake.requests.some((r) => r.watch), 'the watch');
const port = new URL(client.server).port;
for (const side of ['--dport', '--sport'])
  execFileSync('iptables', ['-A', 'INPUT', '-p', 'tcp', side, port, '-j', 'DROP']);
const cut = performance.now();
say({ event: 'cut' });
await eventually(
  async () => logs.some((l) => l['event'] === 'informer.failed'),
  'the watch found dead',
  120_000,
);
say({ event: 'dropped', ms: Math.round(performance.now() - cut) });
