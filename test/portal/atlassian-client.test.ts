import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { JsmSsoError } from '../../common/errors.js';
import { createTranslator } from '../../common/i18n/index.js';
import { packageRoot } from '../../common/paths.js';
import { createTlsFetch } from '../../common/tls/index.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { accountIdFor, type CustomerRequest } from '../../dev/jsm-emulator/state.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import { AtlassianError } from '../../portal/atlassian/errors.js';
import { backoffMs, type Exchange, retryAfterMs, seeOtherTarget } from '../../portal/atlassian/http.js';
import { Catalogue } from '../../portal/catalogue.js';
import { fieldErrorsFrom } from '../../portal/form.js';
import { problemText } from '../../portal/pages/refusals.js';
import { RequestService } from '../../portal/requests.js';
import type { Customer } from '../../portal/visibility.js';
import { newWriteKey } from '../../portal/write-once.js';
import { validateAgainstSpec } from '../../testkit/atlassian-spec.js';
import { timersLeftBy } from '../../testkit/pending-timers.js';

/**
 * A server of the test's own beside the site (where a redirect points), and a client of the site
 * through the portal's TLS fetch that notes each call's outcome.
 */
function beside(siteUrl: () => string, handler: RequestListener) {
  const server = createServer(handler);
  const tlsFetch = createTlsFetch();
  const calls: (number | string)[] = [];
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await tlsFetch.close();
    await new Promise((resolve) => server.close(resolve));
  });
  const portalClient = () =>
    new AtlassianClient({
      siteUrl: siteUrl(),
      ...SERVICE_ACCOUNT,
      fetch: tlsFetch,
      onCall: (_method, _path, status) => calls.push(status),
      sleep: async () => {},
    });
  return { url: () => url, calls, portalClient };
}

describe('portal Atlassian client', () => {
  let emulator: RunningJsmEmulator;
  const exchanges: Exchange[] = [];
  const sleeps: number[] = [];
  const client = (timeoutMs = 5000) =>
    new AtlassianClient({
      siteUrl: emulator.url,
      ...SERVICE_ACCOUNT,
      timeoutMs,
      onExchange: (e) => exchanges.push(e),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  before(async () => {
    emulator = await startJsmEmulator({});
  });
  afterEach(() => emulator.faults.clear());
  after(async () => {
    await emulator.close();
  });

  const alice = (): Customer => {
    const user = [...emulator.state.users.values()].find((u) => u.email === 'alice@acme.test')!;
    return {
      accountId: user.accountId,
      displayName: user.displayName,
      organizationIds: ['1'],
      serviceDeskIds: ['1'],
    };
  };
  const forAlice = () => ({ reporterAccountId: alice().accountId, participantAccountIds: [] });
  const countBySummary = (summary: string) =>
    [...emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary).length;
  const typeId = (name: string) => [...emulator.state.requestTypes.values()].find((t) => t.name === name)!.id;
  /** Raises a "Get IT help" request for Alice with this summary and description, under a new write key. */
  const createItHelp = (service: RequestService, summary: string, description: string) =>
    service.create({
      audience: forAlice(),
      sentBy: alice().accountId,
      serviceDeskId: '1',
      requestTypeId: typeId('Get IT help'),
      values: { summary, description },
      hasDescription: true,
      writeKey: newWriteKey(),
    });

  it("reports a streamed download to the spec check, without its body, and it is on Atlassian's spec", async () => {
    const request = [...emulator.state.requests.values()].find((r) => r.attachments.length > 0)!;
    const attachment = request.attachments[0]!;
    const from = exchanges.length;
    const response = await client().attachmentContent(request.key, attachment.id, 1024 * 1024);
    await response.arrayBuffer();
    const seen = exchanges.slice(from);
    expect(seen.map((e) => `${e.method} ${e.path} ${e.status}`)).to.deep.equal([
      `GET /rest/servicedeskapi/request/${request.key}/attachment/${attachment.id} 200`,
    ]);
    expect(seen[0]!.responseBody).to.equal(undefined);
    expect(seen.flatMap((e) => validateAgainstSpec(e).errors)).to.deep.equal([]);
  });

  it('waits as Retry-After says on 429, then succeeds', async () => {
    emulator.faults.set({
      status: 429,
      retryAfterSeconds: 2,
      pathPrefix: '/rest/servicedeskapi/servicedesk',
      times: 1,
    });
    sleeps.length = 0;
    const desks = await client().serviceDesks();
    expect(desks.map((d) => d.projectKey)).to.deep.equal(['IT', 'HR']);
    expect(sleeps).to.deep.equal([2000]);
  });

  it('does not ask again before a Retry-After longer than it may wait: one call, and the wait is the caller’s', async () => {
    emulator.faults.set({
      status: 429,
      retryAfterSeconds: 30,
      pathPrefix: '/rest/servicedeskapi/servicedesk',
    });
    sleeps.length = 0;
    const err = await client()
      .serviceDesks()
      .catch((e: unknown) => e);
    expect((err as AtlassianError).code).to.equal('ATLASSIAN_RATE_LIMITED');
    // Atlassian's own wait, for the customer's Retry-After, not the 5 s this client would wait.
    expect((err as AtlassianError).retryAfterMs).to.equal(30_000);
    expect(emulator.faults.hits()).to.deep.equal([1]);
    expect(sleeps).to.deep.equal([]);
    // An HTTP date is read as the time left until it.
    const now = Date.parse('Wed, 02 Dec 2026 16:30:00 GMT');
    expect(retryAfterMs('Wed, 02 Dec 2026 16:31:00 GMT', now)).to.equal(60_000);
    expect(retryAfterMs('soon', now)).to.equal(undefined);
  });

  it('backs off exponentially with jitter on 503, and gives up after a bounded number of tries', async () => {
    emulator.faults.set({ status: 503, pathPrefix: '/rest/servicedeskapi/servicedesk' });
    sleeps.length = 0;
    const err = await client()
      .serviceDesks()
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AtlassianError);
    expect((err as AtlassianError).code).to.equal('ATLASSIAN_UNAVAILABLE');
    expect(emulator.faults.hits()).to.deep.equal([4]);
    expect(sleeps).to.have.length(3);
    expect(backoffMs(3, { baseDelayMs: 200, maxDelayMs: 5000, random: () => 1 })).to.equal(1600);
    expect(backoffMs(10, { baseDelayMs: 200, maxDelayMs: 5000, random: () => 0.5 })).to.equal(2500);
  });

  it('never repeats a create blindly: a 503 on create is reconciled and yields one request', async () => {
    emulator.faults.set({
      status: 503,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
    });
    const c = client();
    const service = new RequestService(c, new Catalogue(c, undefined), { reconcileDelaysMs: [10] });
    const {
      value: { issueKey: key },
    } = await createItHelp(service, 'Reconcile after 503', 'x');
    expect(key).to.match(/^IT-\d+$/);
    expect(countBySummary('Reconcile after 503')).to.equal(1);
  });

  it('finds a timed-out create that Atlassian processed anyway instead of creating it twice', async () => {
    // Processed at once, answered late: the portal stops waiting first. (A delay before the
    // handling ended with the body unread and nothing created: that tested a repeated write.)
    // The call's deadline (1 s) leaves room for a loaded machine to deliver the create (150 ms did
    // not: a create not yet read when the portal stopped waiting was never made); the answer comes
    // long after it.
    emulator.faults.set({
      holdAnswerMs: 3000,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
    });
    const c = client(1000);
    const service = new RequestService(c, new Catalogue(c, undefined), {
      reconcileDelaysMs: [200, 400, 800],
    });
    let key: string | undefined;
    // Nothing more to come from the portal: no timer of its own left pending (no retry, no reconcile,
    // no call still waiting on its deadline) once the create has answered. Before, the test slept
    // 2.5 s for the held answer to pass, a wait a loaded machine could outlast.
    const left = await timersLeftBy(
      async () => {
        ({
          value: { issueKey: key },
        } = await createItHelp(service, 'Reconcile after timeout', 'slow'));
      },
      join(packageRoot(), 'portal/'),
    );
    expect(left).to.equal(0);
    expect(key).to.match(/^IT-\d+$/);
    expect(countBySummary('Reconcile after timeout')).to.equal(1);
  });

  it('finds a timed-out create that Atlassian processed while its search lags, past the search (ADR 0240)', async () => {
    emulator.faults.set({
      holdAnswerMs: 3000,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
    });
    emulator.state.searchIndex.hold();
    try {
      const c = client(1000);
      const service = new RequestService(c, new Catalogue(c, undefined), { reconcileDelaysMs: [200, 400] });
      const { value, existed } = await createItHelp(service, 'Timed out while the index lags', 'slow');
      const made = [...emulator.state.requests.values()].filter(
        (r) => r.fieldValues['summary'] === 'Timed out while the index lags',
      );
      expect(made).to.have.length(1);
      expect([value.issueKey, existed]).to.deep.equal([made[0]!.key, false]);
    } finally {
      emulator.state.searchIndex.catchUp();
    }
  });

  it('retries a create, a comment and an attachment refused with 429 after Retry-After, counting each retry, and writes each once', async () => {
    const c = client();
    const retries: string[] = [];
    const waits: number[] = [];
    const service = new RequestService(c, new Catalogue(c, undefined), {
      sleep: async (ms) => {
        waits.push(ms);
      },
      onRetry: (reason) => retries.push(reason),
    });
    // Every write answered 429 twice before it goes through.
    const throttle = (pathPrefix: string) => ({
      status: 429,
      retryAfterSeconds: 2,
      pathPrefix,
      method: 'POST',
      times: 2,
    });
    emulator.faults.set(throttle('/rest/servicedeskapi/request'));
    const {
      value: { issueKey: key },
      existed,
    } = await createItHelp(service, 'Throttled create', 'x');
    expect(existed).to.equal(false);
    expect(countBySummary('Throttled create')).to.equal(1);
    emulator.faults.set(throttle(`/rest/servicedeskapi/request/${key}/comment`));
    const commentKey = newWriteKey();
    await service.comment(key, 'Alice: throttled comment', commentKey);
    emulator.faults.set(throttle(`/rest/servicedeskapi/request/${key}/attachment`));
    // Uploads reach the client spooled to disk (portal/http/upload-spool.ts).
    const spool = mkdtempSync(join(tmpdir(), 'portal-attach-'));
    const spooled = join(spool, 'log.txt');
    writeFileSync(spooled, 'log');
    try {
      await service.attach(
        key,
        '1',
        [{ filename: 'log.txt', path: spooled, mimeType: 'text/plain' }],
        'Alice attached log.txt.',
        newWriteKey(),
      );
    } finally {
      // The portal's spool removes its files; this one is the test's own.
      rmSync(spool, { recursive: true, force: true });
    }
    expect(retries).to.deep.equal(['429', '429', '429', '429', '429', '429']);
    expect(waits).to.deep.equal([2000, 2000, 2000, 2000, 2000, 2000]);
    const request = [...emulator.state.requests.values()].find((r) => r.key === key)!;
    expect(request.comments.filter((x) => x.body.includes('throttled comment'))).to.have.length(1);
    expect(request.attachments.map((a) => a.filename)).to.deep.equal(['log.txt']);
    // The same comment form sent again (back button, a lost answer) adds nothing.
    const again = await service.comment(key, 'Alice: throttled comment', commentKey);
    expect(again.existed).to.equal(true);
    expect(request.comments.filter((x) => x.body.includes('throttled comment'))).to.have.length(1);
  });

  /** Raises a request while Atlassian answers every create with 429 and this Retry-After; what it threw. */
  async function createThrottled(service: RequestService, retryAfterSeconds: number, summary: string) {
    emulator.faults.set({
      status: 429,
      retryAfterSeconds,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
    });
    return createItHelp(service, summary, 'x').catch((e: unknown) => e);
  }

  it('gives up on a write still throttled when its budget is spent, having written nothing', async () => {
    const c = client();
    const service = new RequestService(c, new Catalogue(c, undefined), { budgetMs: 50 });
    const err = await createThrottled(service, 1, 'Throttled for good');
    expect((err as AtlassianError).code).to.equal('ATLASSIAN_RATE_LIMITED');
    expect((err as AtlassianError).retryAfterMs).to.equal(1000);
    expect(countBySummary('Throttled for good')).to.equal(0);
  });

  it('gives up at once on a write whose Retry-After is past its budget, having written nothing', async () => {
    const c = client();
    const waits: number[] = [];
    const service = new RequestService(c, new Catalogue(c, undefined), {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const err = await createThrottled(service, 60, 'Throttled for a minute');
    expect([(err as AtlassianError).code, (err as AtlassianError).retryAfterMs]).to.deep.equal([
      'ATLASSIAN_RATE_LIMITED',
      60_000,
    ]);
    expect(emulator.faults.hits()).to.deep.equal([1]);
    expect(waits).to.deep.equal([]);
    expect(countBySummary('Throttled for a minute')).to.equal(0);
  });

  it('places Atlassian’s own field validation message beside the field it names', async () => {
    const c = client();
    const fields = (await c.requestTypeFields('1', typeId('Request new hardware'))).requestTypeFields;
    const items = fields.find((f) => f.name === 'Items')!;
    const err = await c
      .createRequest({
        serviceDeskId: '1',
        requestTypeId: typeId('Request new hardware'),
        requestFieldValues: { summary: 'x', [items.fieldId]: [{ id: '999999' }] },
        raiseOnBehalfOf: alice().accountId,
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AtlassianError);
    expect((err as AtlassianError).code).to.equal('ATLASSIAN_VALIDATION');
    const placed = fieldErrorsFrom(fields, err as AtlassianError);
    expect(Object.keys(placed)).to.deep.equal([items.fieldId]);
    expect(placed[items.fieldId]?.code).to.equal('FIELD_REFUSED_BY_ATLASSIAN');
    expect(placed[items.fieldId]?.params['detail']).to.match(/^Items: /);
  });

  // Each refusal Atlassian can give a read maps to its own stable code and to the status the
  // portal answers with; the customer reads the catalogue's text for the code, never Atlassian's.
  const refusal = (call: Promise<unknown>): Promise<AtlassianError> =>
    call.then(
      () => {
        throw new Error('expected Atlassian to refuse');
      },
      (e: unknown) => e as AtlassianError,
    );
  const failedRead = (c: AtlassianClient) => refusal(c.serviceDesks());
  const english = createTranslator({ locale: 'en', timeZone: 'UTC' });

  it('names a rejected API token ATLASSIAN_UNAUTHORIZED and answers 502', async () => {
    const err = await failedRead(
      new AtlassianClient({
        siteUrl: emulator.url,
        email: 'portal-bot@acme.test',
        apiToken: 'revoked-token',
      }),
    );
    expect(err).to.be.instanceOf(AtlassianError);
    expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_UNAUTHORIZED', 401, 502]);
    expect(problemText(english, err)).to.match(/not configured correctly/);
  });

  it('names a customer Atlassian already has ATLASSIAN_CONFLICT (409) and answers 400', async () => {
    const err = await refusal(client().createCustomer('alice@acme.test', 'Alice again'));
    expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_CONFLICT', 409, 400]);
  });

  it('names a refused customer creation ATLASSIAN_FORBIDDEN (403) and answers 403, without retrying', async () => {
    emulator.faults.set({ status: 403, method: 'POST', pathPrefix: '/rest/servicedeskapi/customer' });
    const users = emulator.state.users.size;
    const err = await refusal(client().createCustomer('dora@acme.test', 'Dora'));
    expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_FORBIDDEN', 403, 403]);
    expect(problemText(english, err)).to.equal('The help center does not allow this action.');
    expect(emulator.faults.hits()).to.deep.equal([1]);
    expect(emulator.state.users.size).to.equal(users);
  });

  it('names an Atlassian 500 ATLASSIAN_ERROR and answers 502, without retrying', async () => {
    emulator.faults.set({ status: 500, pathPrefix: '/rest/servicedeskapi/servicedesk' });
    const err = await failedRead(client());
    expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_ERROR', 500, 502]);
    expect(emulator.faults.hits()).to.deep.equal([1]);
  });

  it("names a 200 that is no JSON (a proxy's sign-in page, a site under maintenance) ATLASSIAN_ERROR and answers 502, without retrying", async () => {
    for (const [contentType, body] of [
      ['text/html', '<html><body>Sign in to continue</body></html>'],
      ['application/json', '{"values": ['],
    ] as const) {
      emulator.faults.set({ pathPrefix: '/rest/servicedeskapi/servicedesk', answer: { contentType, body } });
      const err = await failedRead(client());
      expect(err, contentType).to.be.instanceOf(AtlassianError);
      expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_ERROR', 200, 502]);
      expect(emulator.faults.hits()).to.deep.equal([1]);
    }
  });

  it('names an answer slower than the timeout ATLASSIAN_TIMEOUT, without a retry: the attempt spent the call’s deadline', async () => {
    emulator.faults.set({ delayMs: 3000, pathPrefix: '/rest/servicedeskapi/servicedesk' });
    sleeps.length = 0;
    const err = await failedRead(client(150));
    expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_TIMEOUT', 0, 502]);
    expect(emulator.faults.hits()).to.deep.equal([1]);
    expect(sleeps).to.deep.equal([]);
  });

  it('names a site that refuses connections ATLASSIAN_UNREACHABLE', async () => {
    const closed = await startJsmEmulator({});
    const url = closed.url;
    await closed.close();
    const err = await failedRead(
      new AtlassianClient({
        siteUrl: url,
        ...SERVICE_ACCOUNT,
        sleep: async () => {},
      }),
    );
    expect([err.code, err.upstreamStatus, err.status]).to.deep.equal(['ATLASSIAN_UNREACHABLE', 0, 502]);
    expect(problemText(english, err)).to.match(/cannot be reached/);
  });

  // A redirect is never followed: the service account's credentials (and a write's content) would
  // go with it. `redirect: 'error'` refused it as a network failure; a call whose answer the
  // transport reads goes as a single exchange and is refused there the same way (ADR 0169).
  describe('reading a paged list', () => {
    const ian = () => [...emulator.state.users.values()].find((u) => u.email === 'ian.it@acme.test')!;
    /** A fault rewrite answering at most `n` values a page, as a method whose server cap is `n`. */
    const capAt = (n: number) => (body: unknown) => {
      const page = body as { values: unknown[]; size: number; isLastPage: boolean };
      return {
        ...page,
        values: page.values.slice(0, n),
        size: Math.min(n, page.values.length),
        isLastPage: page.isLastPage && page.values.length <= n,
      };
    };
    const startsAsked = (from: number, path: string) =>
      exchanges
        .slice(from)
        .filter((e) => e.path.startsWith(`${path}?`))
        .map((e) => Number(new URLSearchParams(e.path.split('?')[1]).get('start')));

    /** Runs `body` with `count` more comments by Ian on IT-1 (the 31st internal), then puts back those it had. */
    const withComments = async (count: number, body: (request: CustomerRequest) => Promise<void>) => {
      const request = emulator.state.requestByIdOrKey('IT-1')!;
      const kept = request.comments;
      request.comments = [
        ...kept,
        ...Array.from({ length: count }, (_, i) => ({
          id: String(97000 + i),
          authorId: ian().accountId,
          body: i === 30 ? 'Internal: vendor contract' : `Update ${i}`,
          public: i !== 30,
          created: request.created + i,
          attachmentIds: [],
        })),
      ];
      try {
        await body(request);
      } finally {
        request.comments = kept;
      }
    };
    const commentPath = '/rest/servicedeskapi/request/IT-1/comment';

    it('reads a list Atlassian caps below the limit asked whole from its end, no page skipped', async () => {
      await withComments(60, async (request) => {
        const from = exchanges.length;
        // The emulator caps a request's comments at 25 a page (Atlassian's "Pagination"); 50 are asked.
        const read = await client().newestComments(request.key);
        expect(read.complete).to.equal(true);
        expect(read.values.map((c) => c.id)).to.deep.equal(request.comments.map((c) => c.id));
        expect(read.values.some((c) => c.id === '97030' && c.public === false)).to.equal(true);
        // Its last 50 asked where the platform's count puts them (25 given, then the last 25), then
        // 25 at a time back to its start.
        const total = request.comments.length;
        const back = Array.from({ length: Math.ceil((total - 50) / 25) }, (_, i) =>
          Math.max(0, total - 75 - i * 25),
        );
        expect(startsAsked(from, commentPath)).to.deep.equal([total - 50, total - 25, ...back]);
        const internal = await client().internalComments(request.key);
        expect(internal.complete).to.equal(true);
        expect(internal.values.map((c) => c.id)).to.deep.equal(
          request.comments.filter((c) => !c.public).map((c) => c.id),
        );
        const problems = exchanges
          .slice(from)
          .flatMap((e) => validateAgainstSpec(e).errors.map((err) => `${e.method} ${e.path}: ${err}`));
        expect(problems).to.deep.equal([]);
      });
    });

    it('reads the newest 20 pages of a longer list, and says the list was not read whole', async () => {
      await withComments(600, async (request) => {
        const read = await client().newestComments(request.key);
        expect(read.complete).to.equal(false);
        // 20 pages: the first asked for 50 held 25, each after it 25.
        expect(read.values.map((c) => c.id)).to.deep.equal(request.comments.slice(-500).map((c) => c.id));
      });
    });

    it('keeps once a comment read twice when the list lost an earlier one while it was read', async () => {
      await withComments(100, async (request) => {
        const removed = request.comments[0]!.id;
        let asked = 0;
        emulator.faults.set({
          pathPrefix: commentPath,
          onArrival: async () => {
            // As the page before the last two is asked, an agent deletes the oldest comment: every
            // comment after it moves back one place, so that page holds one already read.
            if (++asked === 3) request.comments = request.comments.slice(1);
          },
        });
        const read = await client().newestComments(request.key);
        expect(asked).to.be.above(3);
        expect(read.complete).to.equal(true);
        expect(read.values.map((c) => c.id)).to.deep.equal(request.comments.map((c) => c.id));
        expect(read.values.map((c) => c.id)).to.not.include(removed);
      });
    });

    it('finds the end of a list holding fewer than the count said, reading it whole', async () => {
      await withComments(60, async (request) => {
        // The platform counts 300 comments more than the servicedeskapi lists (none is past its end).
        emulator.faults.set({
          pathPrefix: `/rest/api/3/issue/${request.key}/comment`,
          rewriteJson: (body) => ({ ...(body as object), total: (body as { total: number }).total + 300 }),
        });
        const read = await client().newestComments(request.key);
        expect(read.complete).to.equal(true);
        expect(read.values.map((c) => c.id)).to.deep.equal(request.comments.map((c) => c.id));
      });
    });

    it('stops at a page of no values not said to be the last, and says the list was not read whole', async () => {
      emulator.faults.set({
        pathPrefix: commentPath,
        rewriteJson: (body) => ({ ...(body as object), values: [], size: 0, isLastPage: false }),
      });
      const from = exchanges.length;
      const read = await client().newestComments('IT-1');
      expect(read).to.deep.equal({ values: [], complete: false });
      const total = emulator.state.requestByIdOrKey('IT-1')!.comments.length;
      expect(startsAsked(from, commentPath)).to.deep.equal([Math.max(0, total - 50)]);
    });

    it("reads an organization's members in rounds at the size of Atlassian's first page, none skipped", async () => {
      const globex = [...emulator.state.organizations.values()].find((o) => o.name === 'Globex Partners')!;
      const kept = globex.memberIds;
      for (let i = 0; i < 130; i++) {
        const email = `member${i}@globex.test`;
        const accountId = accountIdFor('customer', email);
        emulator.state.users.set(accountId, {
          accountId,
          kind: 'customer',
          email,
          displayName: `Member ${i}`,
          active: true,
          timeZone: 'UTC',
        });
        globex.memberIds = [...globex.memberIds, accountId];
      }
      const path = `/rest/servicedeskapi/organization/${globex.id}/user`;
      emulator.faults.set({ pathPrefix: path, rewriteJson: capAt(25) });
      const from = exchanges.length;
      try {
        const { values: members, complete } = await client().organizationMembers(globex.id);
        expect(complete).to.equal(true);
        expect(members.map((u) => u.accountId)).to.have.members(globex.memberIds);
        expect(members).to.have.length(globex.memberIds.length);
        // The first page alone, then five at a time 25 apart, until the last.
        expect(startsAsked(from, path)).to.deep.equal([0, 25, 50, 75, 100, 125]);
      } finally {
        globex.memberIds = kept;
      }
    });
  });

  describe('reading users by accountId', () => {
    it('reads every user asked for where Atlassian answers fewer a page than asked: on to the page that says it is the last', async () => {
      const path = '/rest/api/3/user/bulk';
      // PageBeanUser: `maxResults` "the maximum number of items that could be returned", `isLast`.
      emulator.faults.set({
        pathPrefix: path,
        rewriteJson: (body: unknown) => {
          const page = body as { values: unknown[]; isLast: boolean; maxResults: number };
          return {
            ...page,
            maxResults: 4,
            values: page.values.slice(0, 4),
            isLast: page.isLast && page.values.length <= 4,
          };
        },
      });
      // Ten: one call's worth (50 at most a call), three pages of four.
      const ids = [...emulator.state.users.values()].slice(0, 10).map((u) => u.accountId);
      const from = exchanges.length;
      const users = await client().usersByAccountId(ids);
      expect(users.map((u) => u.accountId)).to.have.members(ids);
      expect(users).to.have.length(ids.length);
      const starts = exchanges
        .slice(from)
        .filter((e) => e.path.startsWith(`${path}?`))
        .map((e) => Number(new URLSearchParams(e.path.split('?')[1]).get('startAt') ?? 0));
      expect(starts).to.deep.equal([0, 4, 8]);
    });
  });

  describe('refusing a redirect', () => {
    const elsewhere: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
    const target = beside(
      () => emulator.url,
      (req, res) => {
        elsewhere.push({ method: req.method!, url: req.url!, headers: req.headers });
        res.end('{}');
      },
    );
    const { calls, portalClient } = target;
    let location: string;
    before(() => {
      location = `${target.url()}/rest/servicedeskapi/servicedesk`;
    });
    afterEach(() => {
      elsewhere.length = 0;
    });
    const redirectOn = (pathPrefix: string, status: 301 | 302 | 303 | 307 | 308) => {
      calls.length = 0;
      emulator.faults.set({ pathPrefix, redirect: { status, location } });
    };
    const unreachable = (err: AtlassianError) => [err.code, err.upstreamStatus, err.status];

    for (const status of [301, 302, 303, 307, 308] as const) {
      it(`refuses a read answered ${status} as ATLASSIAN_UNREACHABLE after the retries a network failure has, asking nothing of the Location`, async () => {
        redirectOn('/rest/servicedeskapi/servicedesk', status);
        const err = await failedRead(portalClient());
        expect(unreachable(err)).to.deep.equal(['ATLASSIAN_UNREACHABLE', 0, 502]);
        expect(calls).to.deep.equal(['network', 'network', 'network', 'network']);
        expect(emulator.faults.hits()).to.deep.equal([4]);
        expect(elsewhere).to.deep.equal([]);
      });
    }

    it('refuses a write answered 307 (which would resend its body) once, asking nothing of the Location', async () => {
      const key = [...emulator.state.requests.values()][0]!.key;
      redirectOn(`/rest/servicedeskapi/request/${key}/comment`, 307);
      const err = await refusal(portalClient().addPublicComment(key, 'Sent to the site, nowhere else'));
      expect(unreachable(err)).to.deep.equal(['ATLASSIAN_UNREACHABLE', 0, 502]);
      expect(calls).to.deep.equal(['network']);
      expect(elsewhere).to.deep.equal([]);
    });

    it('refuses a download answered 302 as ATLASSIAN_UNREACHABLE, asking nothing of the Location', async () => {
      const request = [...emulator.state.requests.values()].find((r) => r.attachments.length > 0)!;
      const attachment = request.attachments[0]!;
      redirectOn(`/rest/servicedeskapi/request/${request.key}/attachment/${attachment.id}`, 302);
      const err = await refusal(portalClient().attachmentContent(request.key, attachment.id, 1024 * 1024));
      expect(unreachable(err)).to.deep.equal(['ATLASSIAN_UNREACHABLE', 0, 502]);
      expect(calls).to.deep.equal(['network', 'network', 'network', 'network']);
      expect(elsewhere).to.deep.equal([]);
    });
  });

  // getAttachmentContent and getAttachmentThumbnail document 303 as their successful answer: "See the
  // `Location` header for the download URL" (Atlassian's file store). Refused before like every
  // redirect, a site that answered so served no file at all (ADR 0226).
  describe("following a download's 303 See Other to the file", () => {
    const seen: { url: string; authorization: string | undefined }[] = [];
    const store = beside(
      () => emulator.url,
      (req, res) => {
        seen.push({ url: req.url!, authorization: req.headers.authorization });
        if (req.url!.startsWith('/again')) {
          res.writeHead(303, { location: '/again' }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('the file, from the store');
      },
    );
    const { calls, portalClient } = store;
    const storeUrl = () => store.url();
    afterEach(() => {
      seen.length = 0;
    });
    const aFile = () => {
      const request = [...emulator.state.requests.values()].find((r) => r.attachments.length > 0)!;
      return { key: request.key, attachment: request.attachments[0]! };
    };
    const seeOther = (path: string, location: string) => {
      calls.length = 0;
      emulator.faults.set({ pathPrefix: path, redirect: { status: 303, location } });
    };

    it("streams the file from the Location, without the service account's credentials", async () => {
      const { key, attachment } = aFile();
      seeOther(
        `/rest/servicedeskapi/request/${key}/attachment/${attachment.id}`,
        `${storeUrl()}/file/1/binary?token=t`,
      );
      const response = await portalClient().attachmentContent(key, attachment.id, 1024 * 1024);
      expect(await response.text()).to.equal('the file, from the store');
      expect(seen).to.deep.equal([{ url: '/file/1/binary?token=t', authorization: undefined }]);
      expect(calls).to.deep.equal([303, 200]);
    });

    it('holds the file behind a 303 to the size Atlassian lists for it', async () => {
      const { key, attachment } = aFile();
      seeOther(
        `/rest/servicedeskapi/request/${key}/attachment/${attachment.id}`,
        `${storeUrl()}/file/1/binary`,
      );
      // The store sends no Content-Length: the bound meets the body as it streams.
      const err = await portalClient()
        .attachmentContent(key, attachment.id, 8)
        .then((response) => response.text())
        .then(
          () => undefined,
          (e: unknown) => e as JsmSsoError,
        );
      expect(err?.code).to.equal('UPSTREAM_RESPONSE_TOO_LARGE');
    });

    it("follows a thumbnail's 303 the same way", async () => {
      const { key, attachment } = aFile();
      seeOther(
        `/rest/servicedeskapi/request/${key}/attachment/${attachment.id}/thumbnail`,
        `${storeUrl()}/thumb`,
      );
      const response = await portalClient().attachmentThumbnail(key, attachment.id, 1024 * 1024);
      expect(await response.text()).to.equal('the file, from the store');
      expect(seen).to.deep.equal([{ url: '/thumb', authorization: undefined }]);
    });

    it("sends the credentials to a Location on the site itself (the platform's attachment content, which sends on once more)", async () => {
      const { key, attachment } = aFile();
      seeOther(
        `/rest/servicedeskapi/request/${key}/attachment/${attachment.id}`,
        `/rest/api/3/attachment/content/${attachment.id}`,
      );
      const response = await portalClient().attachmentContent(key, attachment.id, 1024 * 1024);
      expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(attachment.content))).to.equal(
        true,
      );
      expect(calls).to.deep.equal([303, 303, 200]);
    });

    for (const [what, location] of [
      ['no Location', ''],
      ['a Location that is no http(s) URL', 'file:///etc/passwd'],
      ['a third See Other', '/again'],
    ] as const) {
      it(`refuses a download answered 303 with ${what} as ATLASSIAN_UNREACHABLE`, async () => {
        const { key, attachment } = aFile();
        seeOther(
          `/rest/servicedeskapi/request/${key}/attachment/${attachment.id}`,
          location.startsWith('/again') ? `${storeUrl()}${location}` : location,
        );
        const err = await refusal(portalClient().attachmentContent(key, attachment.id, 1024 * 1024));
        expect([err.code, err.status]).to.deep.equal(['ATLASSIAN_UNREACHABLE', 502]);
        expect(seen.every((s) => s.url === '/again')).to.equal(true);
      });
    }

    it('takes a Location over https only, plain http only from a plain-http (development) site', () => {
      const site = 'https://acme.atlassian.net';
      const from = `${site}/rest/servicedeskapi/request/HR-1/attachment/1`;
      const target = (location: string | null, siteUrl = site) =>
        seeOtherTarget(location, from, siteUrl)?.href;
      expect(target('https://api.media.atlassian.com/file/x/binary?token=t')).to.equal(
        'https://api.media.atlassian.com/file/x/binary?token=t',
      );
      expect(target('/rest/api/3/attachment/content/1')).to.equal(`${site}/rest/api/3/attachment/content/1`);
      for (const refused of [
        null,
        '',
        'http://api.media.atlassian.com/file',
        'javascript:alert(1)',
        'ftp://x/y',
      ])
        expect(target(refused), String(refused)).to.equal(undefined);
      expect(target('http://127.0.0.1:9/file', 'http://127.0.0.1:8')).to.equal('http://127.0.0.1:9/file');
    });
  });

  it('sends only requests the Atlassian spec documents', () => {
    const problems = exchanges
      .filter((e) => e.path.startsWith('/rest/servicedeskapi/') && e.status < 500 && e.status !== 429)
      .flatMap((e) => validateAgainstSpec(e).errors.map((err) => `${e.method} ${e.path}: ${err}`));
    expect(problems).to.deep.equal([]);
  });
});
