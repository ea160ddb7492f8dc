// Whether a Redis Cluster master has a replica by its own CLUSTER NODES and ROLE (ADRs 0272, 0353),
// and which nodes the answering node does not hear (ADR 0310).
import { expect } from 'chai';
import { masterWithoutReplica, nodesNotHeard } from '../../common/flowstore/cluster-shards.js';

const NODES = [
  'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461->-b1]',
  'b1 127.0.0.1:7001@17001 master - 0 1 2 connected 5461-10922',
  'c1 127.0.0.1:7002@17002 master - 0 1 3 connected 10923-16383',
  'a2 127.0.0.1:7003@17003 slave a1 0 1 1 connected',
  'a3 127.0.0.1:7004@17004 slave,fail a1 0 1 1 disconnected',
  'c2 127.0.0.1:7005@17005 slave c1 0 1 3 disconnected',
  'c3 127.0.0.1:7006@17006 slave,fail? c1 0 1 3 connected',
  '',
].join('\n');

/** NODES as the node `id` answers it: its own line flagged `myself`. */
const answeredBy = (id: string) =>
  NODES.replace('myself,', '')
    .split('\n')
    .map((line) => (line.startsWith(`${id} `) ? line.replace(/ (master|slave)/, ' myself,$1') : line))
    .join('\n');

/** ROLE on a master with these replicas connected. */
const masterRole = (...replicas: number[]) => [
  'master',
  '42',
  replicas.map((port) => ['127.0.0.1', String(port), '42']),
];

describe('flow store: whether a Cluster master has a replica, by its own CLUSTER NODES and ROLE', () => {
  it('has none only when its own table lists none for it, failed ones aside, and its ROLE none connected', () => {
    // b1 lists no replica of its own; a1 lists a3 only as failed besides a2.
    expect(masterWithoutReplica(answeredBy('b1'), masterRole())).to.equal(true);
    expect(masterWithoutReplica(answeredBy('a1'), masterRole())).to.equal(false);
    expect(masterWithoutReplica(answeredBy('a1').replace(/^a2 .*$/m, ''), masterRole())).to.equal(true);
    // Cut off from it, or only suspected failed: still one a failover may promote.
    expect(masterWithoutReplica(answeredBy('c1'), masterRole())).to.equal(false);
    expect(masterWithoutReplica(answeredBy('c1').replace(/^c2 .*$/m, ''), masterRole())).to.equal(false);
  });

  it('has one its ROLE lists connected though its table does not list it yet (just in sync)', () => {
    expect(masterWithoutReplica(answeredBy('b1'), masterRole(7007))).to.equal(false);
  });

  it('is not answered for a node that is no master (demoted since), nor from an answer it cannot read', () => {
    expect(masterWithoutReplica(answeredBy('a2'), ['slave', '127.0.0.1', 7000, 'connected', 42])).to.equal(
      false,
    );
    expect(masterWithoutReplica(answeredBy('b1'), ['slave', '127.0.0.1', 7000, 'connected', 42])).to.equal(
      false,
    );
    expect(masterWithoutReplica('', masterRole())).to.equal(false);
    expect(masterWithoutReplica(answeredBy('b1'), null)).to.equal(false);
  });
});

describe('flow store: the Cluster nodes a node does not hear (CLUSTER NODES)', () => {
  it('names the nodes whose bus link is down, whose ping is unanswered, or that are flagged failing', () => {
    const nodes = [
      'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460',
      'b1 127.0.0.1:7001@17001 master - 1733450000000 1733449999000 2 connected 5461-10922',
      'c1 127.0.0.1:7002@17002 master - 0 1 3 disconnected 10923-16383',
      'd1 127.0.0.1:7003@17003,redis-d.example master,fail? - 0 1 4 connected',
      'e1 127.0.0.1:7004@17004 master,fail - 0 1 5 connected',
      'f1 127.0.0.1:7005@17005 master - 0 1 6 connected',
      '',
    ].join('\n');
    // The answering node's time: b1's ping has waited 1 s.
    expect([...nodesNotHeard(nodes, 1733450001000)]).to.deep.equal([
      '127.0.0.1:7001',
      '127.0.0.1:7002',
      '127.0.0.1:7003',
      'redis-d.example:7003',
      '127.0.0.1:7004',
    ]);
  });

  it('hears a node whose ping is only in flight: sent less than 0.5 s before the answering node’s time', () => {
    const nodes = [
      'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460',
      'b1 127.0.0.1:7001@17001 master - 1733450000000 1733449999000 2 connected 5461-16383',
      '',
    ].join('\n');
    expect(nodesNotHeard(nodes, 1733450000010).size).to.equal(0);
    expect([...nodesNotHeard(nodes, 1733450000500)]).to.deep.equal(['127.0.0.1:7001']);
  });

  it('names none when every node is heard or none is listed', () => {
    expect(nodesNotHeard(NODES.split('\n').slice(0, 3).join('\n'), 1733450000000).size).to.equal(0);
    expect(nodesNotHeard('', 1733450000000).size).to.equal(0);
  });
});
