import { expect } from 'chai';
import {
  createJsmEmulator,
  type RunningJsmEmulator,
  startJsmEmulator,
} from '../../dev/jsm-emulator/emulator.js';

const auth = {
  authorization: `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`,
};

describe('JSM emulator: faults a client must survive', () => {
  let emulator: RunningJsmEmulator;
  beforeEach(async () => {
    emulator = await startJsmEmulator({ devControl: true });
  });
  afterEach(() => emulator.close());

  it('answers 429 with Retry-After and X-RateLimit-* for the given number of times, then recovers', async () => {
    emulator.faults.set({
      status: 429,
      retryAfterSeconds: 3,
      times: 2,
      pathPrefix: '/rest/servicedeskapi/request',
    });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${emulator.url}/rest/servicedeskapi/request`, { headers: auth });
      expect(r.status).to.equal(429);
      expect(r.headers.get('retry-after')).to.equal('3');
      expect(r.headers.get('x-ratelimit-remaining')).to.equal('0');
      expect(r.headers.get('x-ratelimit-reset')).to.match(/^\d{4}-/);
    }
    expect((await fetch(`${emulator.url}/rest/servicedeskapi/request`, { headers: auth })).status).to.equal(
      200,
    );
    expect(emulator.faults.hits()).to.deep.equal([2]);
  });
  it('answers 503 with the given Retry-After after doing the work, as a proxy in front of Atlassian may', async () => {
    emulator.faults.set({ statusAfterHandling: 503, retryAfterSeconds: 4, times: 1, method: 'POST' });
    const text = 'Hello from behind a proxy';
    const posted = await fetch(`${emulator.url}/rest/servicedeskapi/request/IT-1/comment`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ body: text, public: true }),
    });
    expect(posted.status).to.equal(503);
    expect(posted.headers.get('retry-after')).to.equal('4');
    const comments = [...emulator.state.requests.values()].find((r) => r.key === 'IT-1')!.comments;
    expect(
      comments.filter((c) => c.body === text),
      'the comment made',
    ).to.have.length(1);
  });
  it('only hits the path prefix it was given', async () => {
    emulator.faults.set({ status: 503, pathPrefix: '/rest/api/3/' });
    expect(
      (await fetch(`${emulator.url}/rest/servicedeskapi/servicedesk`, { headers: auth })).status,
    ).to.equal(200);
    expect((await fetch(`${emulator.url}/rest/api/3/myself`, { headers: auth })).status).to.equal(503);
  });
  it('withdraws one rule added for a window, the others staying', async () => {
    const read = async () =>
      (await fetch(`${emulator.url}/rest/servicedeskapi/servicedesk`, { headers: auth })).status;
    const withdrawRateLimit = emulator.faults.add({ status: 429, method: 'GET' });
    emulator.faults.add({ status: 503, method: 'POST' });
    expect(await read()).to.equal(429);
    withdrawRateLimit();
    expect(await read()).to.equal(200);
    expect(emulator.faults.list(), 'the rule left').to.deep.equal([{ status: 503, method: 'POST' }]);
    expect(emulator.faults.hits(), 'hits of each rule').to.deep.equal([1, 0]);
  });
  it('delays responses by a fixed time', async () => {
    emulator.faults.set({ delayMs: 50 });
    const started = performance.now();
    expect((await fetch(`${emulator.url}/rest/api/3/myself`, { headers: auth })).status).to.equal(200);
    expect(performance.now() - started).to.be.at.least(45);
  });
  it('drops the connection without an answer', async () => {
    emulator.faults.set({ dropConnection: true, times: 1 });
    const error = await fetch(`${emulator.url}/rest/api/3/myself`, { headers: auth }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TypeError);
  });
  it('is switched through the HTTP control API in dev mode', async () => {
    expect(
      (
        await fetch(`${emulator.url}/__emulator/faults`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: 503, times: 1 }),
        })
      ).status,
    ).to.equal(204);
    expect((await fetch(`${emulator.url}/rest/api/3/myself`, { headers: auth })).status).to.equal(503);
    expect((await fetch(`${emulator.url}/rest/api/3/myself`, { headers: auth })).status).to.equal(200);
  });
  it('has no control API unless started in dev mode', async () => {
    const app = createJsmEmulator({}).handler;
    const { startServer } = await import('../../common/http/server.js');
    const { createLogger } = await import('../../common/log.js');
    const server = await startServer({
      name: 't',
      handler: app,
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ component: 't', level: 'silent' }),
    });
    try {
      const r = await fetch(`${server.url}/__emulator/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"status":503}',
      });
      expect(r.status).to.equal(401);
    } finally {
      await server.close(100);
    }
  });
});
