import { expect } from 'chai';
import { UsageError } from '../../common/args.js';
import { parseLabels } from '../../operator/cli.js';

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
