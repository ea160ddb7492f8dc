// A single-node cluster that fails to start leaves nothing in the temp folder: before, each failed
// start left an empty /tmp/jsm-sso-cluster-* folder, as only a started cluster's stop removed it.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startNodeCluster } from '../../testkit/node-cluster.js';

describe('testkit: a single-node cluster that fails to start', () => {
  let scratch: string;
  let savedTmpdir: string | undefined;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'jsm-sso-node-cluster-test-'));
    savedTmpdir = process.env['TMPDIR'];
  });

  afterEach(() => {
    if (savedTmpdir === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmpdir;
    rmSync(scratch, { recursive: true, force: true });
  });

  it('throws and leaves no folder behind', async () => {
    // kube-apiserver and etcd that exist but are not: the script passes its first check and fails
    // a step later (the node's own checks, or etcd exiting).
    const tools = join(scratch, 'tools');
    const temp = join(scratch, 'tmp');
    mkdirSync(tools);
    mkdirSync(temp);
    for (const binary of ['kube-apiserver', 'etcd']) {
      writeFileSync(join(tools, binary), '#!/bin/sh\nexit 1\n');
      chmodSync(join(tools, binary), 0o755);
    }
    // os.tmpdir() and the script's mktemp both read TMPDIR: everything the start makes lands here.
    process.env['TMPDIR'] = temp;

    const failure = await startNodeCluster({}, tools).then(
      () => undefined,
      (err: Error) => err,
    );

    expect(failure?.message).to.include('the single-node cluster did not start');
    expect(readdirSync(temp)).to.deep.equal([]);
  });
});
