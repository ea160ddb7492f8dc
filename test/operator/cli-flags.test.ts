import { expect } from 'chai';
import { UsageError } from '../../common/args.js';
import { parseConfig, parseLabels } from '../../operator/cli.js';
import { runCli } from '../../testkit/cli.js';
import { type Envtest, envtest } from '../../testkit/envtest.js';

describe('operator namespace selector flags', () => {
  it('read key=value pairs, and an empty value as every namespace', () => {
    const flag = 'ingress-namespace-selector';
    expect(parseLabels({ [flag]: 'a=b,c=d' }, flag, '')).to.deep.equal({ a: 'b', c: 'd' });
    expect(parseLabels({ [flag]: '' }, flag, 'kubernetes.io/metadata.name=monitoring')).to.deep.equal({});
    expect(parseLabels({}, flag, '')).to.deep.equal({});
    expect(parseLabels({}, flag, 'x=y')).to.deep.equal({ x: 'y' });
  });

  it('refuse a selector that is not key=value', () => {
    expect(() => parseLabels({ s: 'nginx' }, 's', '')).to.throw(UsageError, /expected key=value/);
    expect(() => parseLabels({ s: 'a=b=c' }, 's', '')).to.throw(UsageError);
  });
});

describe('operator flags read at start: leader election, --pod-ids', function () {
  this.timeout(120_000);
  let env: Envtest;

  before(async () => {
    env = await envtest();
  });

  const operator = (...flags: string[]) =>
    runCli(['operator', '--kubeconfig', env.kubeconfigPath, '--image', 'jsm-sso:test', ...flags]);

  it('refuse a renew deadline not shorter than the lease (a standby would take over while the leader still writes), as a usage error', async () => {
    const { code, stderr } = await operator(
      '--lease-duration-seconds',
      '15',
      '--renew-deadline-seconds',
      '15',
    );
    expect(code).to.equal(2);
    expect(stderr).to.match(
      /--renew-deadline-seconds \(15\) must be less than --lease-duration-seconds \(15\)/,
    );
  });

  it('refuse a retry period that with its jitter does not fit in the renew deadline, as a usage error', async () => {
    const { code, stderr } = await operator('--renew-deadline-seconds', '6', '--retry-period-seconds', '5');
    expect(code).to.equal(2);
    expect(stderr).to.match(/--retry-period-seconds \(5\) with its 20% jitter must be less than/);
  });

  it("--pod-ids: carries platform into the settings every tenant's and pool's Deployment is built from; fixed by default", async () => {
    const flags = { kubeconfig: env.kubeconfigPath, image: 'jsm-sso:test', 'disable-leader-election': true };
    expect((await parseConfig({ ...flags, 'pod-ids': 'platform' })).settings.podIds).to.equal('platform');
    expect((await parseConfig(flags)).settings.podIds).to.equal('fixed');
  });

  it('--pod-ids: refuses anything but fixed or platform, as a usage error', async () => {
    const { code, stderr } = await operator('--pod-ids', 'openshift');
    expect(code).to.equal(2);
    expect(stderr).to.match(/--pod-ids must be fixed or platform, got "openshift"/);
  });
});
