// Which replicas a Redis Cluster lists for a slot's master (ADR 0272), and which nodes the answering
// node does not hear (ADR 0310), read from CLUSTER NODES.
import { expect } from 'chai';
import { nodesNotHeard, replicasOfSlotOwner } from '../../common/flowstore/cluster-shards.js';

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

describe('flow store: a Cluster slot owner’s replicas (CLUSTER NODES)', () => {
  it('counts the replicas of the master owning the slot, failed ones aside', () => {
    expect(replicasOfSlotOwner(NODES, 0)).to.equal(1);
    expect(replicasOfSlotOwner(NODES, 5460)).to.equal(1);
    // A slot being moved away stays its old owner's until the move ends.
    expect(replicasOfSlotOwner(NODES, 5461)).to.equal(0);
    // Cut off from its master, or only suspected failed: still one a failover may promote.
    expect(replicasOfSlotOwner(NODES, 16383)).to.equal(2);
  });

  it('knows no owner for a slot no master lists', () => {
    expect(replicasOfSlotOwner(NODES.replace(' 10923-16383', ''), 16383)).to.equal(undefined);
    expect(replicasOfSlotOwner('', 0)).to.equal(undefined);
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
