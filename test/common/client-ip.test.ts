import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { clientIp } from '../../common/http/client-ip.js';

function request(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('client IP', () => {
  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientIp(request('10.0.0.5', '203.0.113.9'))).to.equal('10.0.0.5');
  });

  it('behind one trusted proxy, is the address that proxy appended, not what the client wrote', () => {
    expect(clientIp(request('10.0.0.5', '198.51.100.66, 203.0.113.9'), 1)).to.equal('203.0.113.9');
  });

  it('behind two trusted proxies, counts two hops from the right', () => {
    expect(clientIp(request('10.0.0.5', 'spoofed, 203.0.113.9, 10.0.0.7'), 2)).to.equal('203.0.113.9');
  });

  it('falls back to the leftmost known address when the chain is shorter than the trusted hops', () => {
    expect(clientIp(request('10.0.0.5'), 1)).to.equal('10.0.0.5');
    expect(clientIp(request('10.0.0.5', '203.0.113.9'), 3)).to.equal('203.0.113.9');
  });
});
