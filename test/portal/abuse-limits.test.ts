import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { FlowStoreFullError, MemoryFlowStore } from '../../common/flowstore/index.js';
import { MAX_POSTED_FORM_BYTES } from '../../common/saml/index.js';
import { CROSS_SITE_POSTS, MAX_FORM_BYTES } from '../../portal/web.js';
import { eventually } from '../../testkit/envtest.js';
import {
  Browser,
  brokerResponse,
  csrfOf,
  formPost,
  type Harness,
  portalRoutes,
  reasons,
  refusalCount,
  shownReference,
  signIn,
  spooledBytes as spooledOf,
  startHarness,
  startLogin,
} from '../../testkit/portal-harness.js';

const twoPerAccount = { perIp: 1000, perAccount: 2 };
const TWO_PER_ACCOUNT = {
  acsPosts: twoPerAccount,
  requestCreations: twoPerAccount,
  comments: twoPerAccount,
  requestChanges: twoPerAccount,
  uploads: twoPerAccount,
};

/** Asserts a friendly 429 with Retry-After and the reason in the log. */
async function expectLimited(h: Harness, res: Response, from: number): Promise<void> {
  expect(res.status).to.equal(429);
  expect(Number(res.headers.get('retry-after'))).to.be.within(1, 60);
  const page = await res.text();
  expect(page).to.include('Please wait');
  expect(reasons(h, from)).to.include('PORTAL_RATE_LIMITED');
  // The page names the reason and the reference both of its log lines carry (ADR 0316).
  const shown = shownReference(page);
  expect(shown?.reason).to.equal('PORTAL_RATE_LIMITED');
  const referenced = h.logs.slice(from).filter((l) => l['reference'] === shown?.id);
  expect(referenced.map((l) => l['event'])).to.deep.equal(['portal.rate_limited', 'portal.refused']);
}

describe('portal abuse limits: body limits answer 413, never 500', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  const post = (path: string, body: string) =>
    fetch(`${h.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.url },
    });

  it('answers 413 to a body at /saml/acs past the longest form a Response is posted in (1 MiB, ADR 0317)', async () => {
    const from = h.logs.length;
    const res = await post('/saml/acs', `SAMLResponse=${'A'.repeat(MAX_POSTED_FORM_BYTES)}`);
    expect(res.status).to.equal(413);
    expect(reasons(h, from)).to.deep.equal(['PORTAL_BODY_TOO_LARGE']);
  });

  it('answers 413 to a 5,000-parameter body at /saml/acs', async () => {
    const from = h.logs.length;
    const res = await post('/saml/acs', Array.from({ length: 5000 }, (_, i) => `p${i}=x`).join('&'));
    expect(res.status).to.equal(413);
    expect(reasons(h, from)).to.deep.equal(['PORTAL_BODY_TOO_MANY_PARAMETERS']);
    expect(h.logs.some((l) => l['reason'] === 'PORTAL_INTERNAL')).to.equal(false);
  });

  const postEncoded = (headers: Record<string, string>, body: string | Uint8Array) =>
    fetch(`${h.url}/saml/acs`, {
      method: 'POST',
      body: typeof body === 'string' ? body : new Uint8Array(body),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.url, ...headers },
    });

  for (const [what, headers] of [
    ['a content encoding it cannot decode', { 'content-encoding': 'compress' }],
    ['a charset other than UTF-8', { 'content-type': 'application/x-www-form-urlencoded; charset=koi8-r' }],
  ] as const) {
    it(`answers 415 PORTAL_BODY_ENCODING to a form in ${what}`, async () => {
      const from = h.logs.length;
      const res = await postEncoded(headers, 'SAMLResponse=x');
      expect(res.status).to.equal(415);
      expect(await res.text()).to.include('The form’s encoding is not supported.');
      expect(reasons(h, from)).to.deep.equal(['PORTAL_BODY_ENCODING']);
    });
  }

  // Nothing is decompressed (ADR 0404): a gzip form, whole or not, is refused before it is read.
  for (const [what, body] of [
    ['inflates well', gzipSync('SAMLResponse=x')],
    ['is cut short', gzipSync('SAMLResponse=x').subarray(0, 12)],
  ] as const) {
    it(`answers 415 PORTAL_BODY_ENCODING, not 500, to a gzip form that ${what}`, async () => {
      const from = h.logs.length;
      const res = await postEncoded({ 'content-encoding': 'gzip' }, body);
      expect(res.status).to.equal(415);
      expect(await res.text()).to.include('The form’s encoding is not supported.');
      expect(reasons(h, from)).to.deep.equal(['PORTAL_BODY_ENCODING']);
    });
  }

  it('notes PORTAL_CLIENT_ABORTED, no refusal and not 500, for a form whose client hangs up before its body ends (ADR 0406)', async () => {
    const from = h.logs.length;
    const { host, port } = new URL(h.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', reject);
      socket.on('close', () => resolve());
      // The part of the body only once the ACS reads it (its "100 Continue", ADR 0404), then gone.
      socket.once('data', () => socket.end('SAMLResponse='));
      socket.write(
        `POST /saml/acs HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n`,
      );
    });
    await eventually(async () => reasons(h, from).length > 0, 'the refusal noted');
    expect(reasons(h, from)).to.deep.equal(['PORTAL_CLIENT_ABORTED']);
  });

  it('answers 413 to an oversized comment form', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const res = await alice.post(`/requests/${key}/comment`, {
      _csrf: token,
      body: 'x'.repeat(MAX_FORM_BYTES + 1),
    });
    expect(res.status).to.equal(413);
    // The longest text in words, and the way back (ADR 0442).
    expect(await res.text()).to.contain(
      'A text can have at most 32,000 characters. Go back to the form with your browser’s Back button',
    );
  });

  const PRINTER = 'Printer on 3rd floor jams every morning';
  /** Alice posts `body` to her request's attachment form; the reasons logged meanwhile come back. */
  async function postAttachment(
    body: FormData | string | ((csrf: string) => FormData),
    contentType?: string,
  ) {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf(PRINTER);
    const form =
      typeof body === 'function' ? body(csrfOf((await alice.text(`/requests/${key}`)).body)) : body;
    const from = h.logs.length;
    const res = await alice.fetch(`/requests/${key}/attachment`, {
      method: 'POST',
      body: form,
      headers: { origin: h.url, ...(contentType ? { 'content-type': contentType } : {}) },
    });
    return { res, text: await res.text(), reasons: reasons(h, from) };
  }

  it('answers 413 to a multipart form with too many fields', async () => {
    const body = new FormData();
    for (let i = 0; i < 500; i++) body.append(`f${i}`, 'x');
    const { res, reasons: logged } = await postAttachment(body);
    expect(res.status).to.equal(413);
    expect(logged).to.include('PORTAL_FORM_TOO_LARGE');
  });

  it('answers 413 PORTAL_UPLOAD_TOO_MANY to more files than the form takes, and attaches none', async () => {
    const request = () =>
      [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === PRINTER)!;
    const attached = request().attachments.length;
    const {
      res,
      text,
      reasons: logged,
    } = await postAttachment((csrf) => {
      const body = new FormData();
      body.append('_csrf', csrf);
      body.append('attachment', new Blob(['one'], { type: 'text/plain' }), 'one.txt');
      body.append('attachment', new Blob(['two'], { type: 'text/plain' }), 'two.txt');
      return body;
    });
    expect(res.status).to.equal(413);
    expect(text).to.include('At most 1 file can be attached at once. Nothing was sent');
    expect(logged).to.deep.equal(['PORTAL_UPLOAD_TOO_MANY']);
    expect(request().attachments).to.have.length(attached);
  });

  for (const [what, contentType, body] of [
    ['without a boundary', 'multipart/form-data', '--x\r\n'],
    [
      'cut off mid-part',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="attachment"; filename="a.txt"\r\n\r\nhal',
    ],
  ] as const) {
    it(`answers 400 PORTAL_FORM_INVALID, not 500, to a multipart form ${what}`, async () => {
      const { res, text, reasons: logged } = await postAttachment(body, contentType);
      expect(res.status).to.equal(400);
      expect(text).to.include('The form could not be read.');
      expect(logged).to.deep.equal(['PORTAL_FORM_INVALID']);
    });
  }
});

describe('portal abuse limits: rate limits (Redis, replicas count together)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      portal: {
        limits: { windowSeconds: 60, signInStarts: { perIp: 4 }, ...TWO_PER_ACCOUNT },
      },
    });
  });
  after(() => h.close());

  it('refuses sign-in starts from one IP beyond the limit, counted across two replicas', async () => {
    const replica = await h.startReplica();
    try {
      const start = (base: string) => fetch(`${base}/login`, { redirect: 'manual' });
      expect((await start(h.url)).status).to.equal(303);
      expect((await start(replica.url)).status).to.equal(303);
      expect((await start(h.url)).status).to.equal(303);
      expect((await start(replica.url)).status).to.equal(303);
      const from = h.logs.length;
      await expectLimited(h, await start(h.url), from);
      expect((await start(replica.url)).status).to.equal(429);
      expect(await refusalCount(h, 'PORTAL_RATE_LIMITED')).to.be.at.least(1);
      expect(
        h.logs
          .slice(from)
          .some((l) => l['event'] === 'portal.rate_limited' && l['action'] === 'signInStarts'),
      ).to.equal(true);
    } finally {
      await replica.close();
    }
  });

  it('keeps no client IP or e-mail in the store for counting', async () => {
    const stored = (await h.storedValues()).join('\n');
    expect(stored).to.not.include('127.0.0.1');
  });
});

describe('portal abuse limits: a client is its IPv4 address or its IPv6 /64', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      portal: { limits: { windowSeconds: 60, signInStarts: { perIp: 2 } } },
      trustedProxyHops: 1,
    });
  });
  after(() => h.close());
  const startFrom = (address: string) =>
    fetch(`${h.url}/login`, { redirect: 'manual', headers: { 'x-forwarded-for': address } });

  it('refuses a third sign-in start from one /64, whatever addresses in it the client takes, and no other /64', async () => {
    // Temporary addresses (RFC 8981) within one /64: one client, one budget.
    expect((await startFrom('2001:db8:1:2::1')).status).to.equal(303);
    expect((await startFrom('2001:db8:1:2:ffff:ffff:ffff:2')).status).to.equal(303);
    const from = h.logs.length;
    await expectLimited(h, await startFrom('2001:db8:1:2:abcd:ef01:2345:6789'), from);
    expect((await startFrom('2001:db8:1:3::1')).status, 'the next /64').to.equal(303);
  });

  it('counts an IPv4 client and its IPv4-mapped IPv6 form together', async () => {
    expect((await startFrom('198.51.100.7')).status).to.equal(303);
    expect((await startFrom('::ffff:198.51.100.7')).status).to.equal(303);
    expect((await startFrom('198.51.100.7')).status).to.equal(429);
    expect((await startFrom('198.51.100.8')).status, 'the next IPv4 address').to.equal(303);
  });
});

describe("portal abuse limits: all of a tenant's sign-in starts together (ADR 0256)", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      portal: { limits: { windowSeconds: 60, signInStarts: { perIp: 2, perTenant: 100 } } },
      trustedProxyHops: 1,
    });
  });
  after(() => h.close());
  const startAt = (base: string, address: string) =>
    fetch(`${base}/login`, { redirect: 'manual', headers: { 'x-forwarded-for': address } });

  it('refuses the start past perTenant from many addresses, each under its own limit: 503, a minute, on every replica, nothing written; sign-ins under way and sessions go on', async () => {
    const replica = await h.startReplica();
    try {
      const signedIn = await signIn(h, 'alice@acme.test');
      const signingIn = new Browser(h.url);
      const { requestId } = await startLogin(signingIn);
      // A client with an IPv6 /48 has 65,536 /64s, each its own per-address budget (ADR 0216).
      for (let i = 0; i < 98; i++)
        expect(
          (await startAt(i % 2 ? replica.url : h.url, `2001:db8:1:${i.toString(16)}::1`)).status,
        ).to.equal(303);
      const stored = (await h.storedKeys()).length;
      const from = h.logs.length;
      const refused = await startAt(h.url, '2001:db8:1:ffff::1');
      expect(refused.status).to.equal(503);
      expect(refused.headers.get('retry-after')).to.equal('60');
      expect(await refused.text()).to.include('please try again in a minute');
      expect((await startAt(replica.url, '2001:db8:1:fffe::1')).status, 'the other replica').to.equal(503);
      expect(reasons(h, from), "a line from each replica (the harness's one log)").to.deep.equal([
        'PORTAL_SIGN_IN_STARTS_FULL',
        'PORTAL_SIGN_IN_STARTS_FULL',
      ]);
      expect((await h.storedKeys()).length, 'no flow nor counter for a refused start').to.equal(stored);
      const errors = await h.registry.getSingleMetric('jsm_sso_portal_errors_total')?.get();
      expect(errors?.values.find((v) => v.labels['reason'] === 'PORTAL_SIGN_IN_STARTS_FULL')?.value).to.equal(
        1,
      );
      // What a full store would also have stopped: a session goes on, a sign-in started before ends.
      expect((await signedIn.fetch('/profile')).status).to.equal(200);
      const acs = await signingIn.post(
        '/saml/acs',
        { SAMLResponse: brokerResponse(h, { email: 'bob@acme.test', inResponseTo: requestId }) },
        { origin: 'null' },
      );
      expect(acs.status, 'the sign-in started before').to.equal(303);
      expect((await signingIn.fetch('/profile')).status).to.equal(200);
    } finally {
      await replica.close();
    }
  });
});

describe('portal abuse limits: per account', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      portal: {
        limits: TWO_PER_ACCOUNT,
      },
    });
  });
  after(() => h.close());

  it('refuses a third sign-in of one account within the window (ACS posts by account)', async () => {
    await signIn(h, 'bob@acme.test');
    await signIn(h, 'bob@acme.test');
    const from = h.logs.length;
    const third = await signIn(h, 'bob@acme.test').then(
      () => 'signed in',
      (err: Error) => err.message,
    );
    expect(third).to.match(/failed: 429/);
    expect(reasons(h, from)).to.include('PORTAL_RATE_LIMITED');
    await signIn(h, 'alice@acme.test'); // another account is not affected
  });

  it('refuses a third participant change by one account: Atlassian mails the person added each time', async () => {
    const erik = await signIn(h, 'erik@acme.test');
    const key = h.keyOf('Wi-Fi drops in meeting room Nile');
    const alice = [...h.emulator.state.users.values()].find((u) => u.email === 'alice@acme.test')!.accountId;
    const token = csrfOf((await erik.text(`/requests/${key}`)).body);
    const calls = () =>
      h.exchanges.filter((e) => e.path.endsWith(`/request/${key}/participant`) && e.method !== 'GET');
    const before = calls().length;
    const change = (what: 'add' | 'remove') =>
      erik.post(`/requests/${key}/participants/${what}`, { _csrf: token, accountId: alice });
    expect((await change('add')).status).to.equal(303);
    expect((await change('remove')).status).to.equal(303);
    const from = h.logs.length;
    await expectLimited(h, await change('add'), from);
    expect(calls().length - before, 'participant changes sent to Atlassian').to.equal(2);
  });

  it('refuses a third comment, a third request creation and a third upload by one account', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const comment = () => alice.post(`/requests/${key}/comment`, { _csrf: token, body: 'hello' });
    expect((await comment()).status).to.equal(303);
    expect((await comment()).status).to.equal(303);
    let from = h.logs.length;
    await expectLimited(h, await comment(), from);

    const upload = () => {
      const body = new FormData();
      body.append('_csrf', token);
      body.append('attachment', new Blob(['notes']), 'notes.txt');
      return alice.fetch(`/requests/${key}/attachment`, { method: 'POST', body, headers: { origin: h.url } });
    };
    expect((await upload()).status).to.equal(303);
    expect((await upload()).status).to.equal(303);
    from = h.logs.length;
    await expectLimited(h, await upload(), from);

    const create = () => {
      const body = new FormData();
      body.append('_csrf', token);
      body.append('f_summary', 'Too many');
      return alice.fetch('/desk/1/create/1', { method: 'POST', body, headers: { origin: h.url } });
    };
    expect((await create()).status).to.not.equal(429);
    expect((await create()).status).to.not.equal(429);
    from = h.logs.length;
    await expectLimited(h, await create(), from);
  });
});

describe('portal abuse limits: a form refused for its Origin spends no limit (ADR 0262)', () => {
  // The session cookie is SameSite=Lax: a page of the same site (another application under the
  // customer's domain) can have her browser post the portal's forms, with her cookie, from its origin.
  const LIMIT = 10;
  const tenPerClient = { perIp: LIMIT, perAccount: LIMIT };
  let h: Harness;
  before(async () => {
    h = await startHarness({
      portal: {
        limits: {
          windowSeconds: 60,
          requestCreations: tenPerClient,
          comments: tenPerClient,
          requestChanges: tenPerClient,
          uploads: tenPerClient,
        },
      },
    });
  });
  after(() => h.close());

  /**
   * Every state-changing route, read from the router (a new one is attacked here at once), with its
   * parameters filled; `/logout` last, as it ends the session.
   */
  function stateChangingPaths(): string[] {
    const type = [...h.emulator.state.requestTypes.values()][0]!;
    const params: Record<string, string> = {
      key: h.keyOf('Printer on 3rd floor jams every morning'),
      deskId: type.serviceDeskId,
      typeId: type.id,
    };
    return portalRoutes(h)
      .filter((r) => !/^(GET|HEAD) /.test(r))
      .map((r) => r.replace(/^[A-Z]+ /, ''))
      .filter((path) => !CROSS_SITE_POSTS.has(path))
      .map((path) =>
        path.replace(/:(\w+)/g, (_, name: string) => {
          const value = params[name];
          if (value === undefined) throw new Error(`no value for :${name} of ${path}`);
          return encodeURIComponent(value);
        }),
      )
      .sort((a, b) => Number(a === '/logout') - Number(b === '/logout'));
  }

  it('refuses forged forms past every limit, and the customer, and her office, still post theirs', async () => {
    const alice = await signIn(h, 'alice@acme.test', { groups: ['portal-admins'] });
    const bob = await signIn(h, 'bob@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const paths = stateChangingPaths();
    expect(paths, 'routes read from the router').to.include(`/requests/${key}/comment`);
    for (const path of paths) {
      for (let i = 0; i <= LIMIT; i++) {
        const multipart = /\/(attachment|create\/)/.test(path);
        const form = { _csrf: token, body: 'forged', accountId: 'x' };
        const from = h.logs.length;
        const res = await alice.fetch(path, formPost('https://other-app.acme.test', form, multipart));
        await res.arrayBuffer();
        expect(res.status, `${path}, forged #${i + 1}`).to.equal(403);
        expect(reasons(h, from), path).to.deep.equal(['PORTAL_CSRF']);
      }
    }
    // Another customer behind the same address (her office's NAT): its per-address budget is whole.
    const bobToken = csrfOf(
      (await bob.text(`/requests/${h.keyOf('Wi-Fi drops in meeting room Nile')}`)).body,
    );
    const bobs = await bob.post(`/requests/${h.keyOf('Wi-Fi drops in meeting room Nile')}/comment`, {
      _csrf: bobToken,
      body: 'from the same office',
    });
    expect(bobs.status, "bob's comment").to.equal(303);
    // Her own forms, from the portal's pages: whatever each answers, none is refused for a limit.
    for (const path of paths) {
      const from = h.logs.length;
      const res = await alice.post(path, { _csrf: token, body: 'her own', accountId: 'x' });
      await res.arrayBuffer();
      expect(res.status, path).to.not.equal(429);
      expect(reasons(h, from), path).to.not.include('PORTAL_RATE_LIMITED');
    }
    const comments = [...h.emulator.state.requests.values()].flatMap((r) => r.comments);
    expect(
      comments.filter((c) => JSON.stringify(c).includes('forged')),
      'forged comments',
    ).to.deep.equal([]);
    expect(
      comments.filter((c) => JSON.stringify(c).includes('her own')),
      'her comment',
    ).to.have.length(1);
  });
});

describe('portal abuse limits: an ACS post counts the account it asserts, not the session (ADR 0262)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ portal: { limits: { windowSeconds: 60, acsPosts: twoPerAccount } } });
  });
  after(() => h.close());

  it("lets a page of the same site spend none of a signed-in customer's sign-ins", async () => {
    const alice = await signIn(h, 'alice@acme.test');
    // The ACS takes posts from other sites by design (the broker's page); this one goes with her cookie.
    for (let i = 1; i <= 3; i++) {
      const from = h.logs.length;
      const res = await alice.post(
        '/saml/acs',
        { SAMLResponse: 'forged' },
        { origin: 'https://other-app.acme.test' },
      );
      await res.arrayBuffer();
      expect(res.status, `forged #${i}`).to.equal(400);
      expect(reasons(h, from), `forged #${i}`).to.deep.equal(['PORTAL_LOGIN_FLOW_MISSING']);
    }
    // She signs in again in the same browser, her session still open: her second sign-in of the window.
    const { requestId } = await startLogin(alice);
    const res = await alice.post(
      '/saml/acs',
      { SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }) },
      { origin: 'null' },
    );
    expect(res.status, 'her own sign-in').to.equal(303);
    // The third of her account is refused, counted by the account its Response asserts.
    const from = h.logs.length;
    const third = await signIn(h, 'alice@acme.test').catch((err: Error) => err.message);
    expect(third).to.match(/failed: 429/);
    expect(reasons(h, from)).to.include('PORTAL_RATE_LIMITED');
  });
});

describe('portal abuse limits: pages a signed-in customer reads', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ portal: { limits: { signedInPages: { perAccount: 3 } } } });
  });
  after(() => h.close());

  it('refuses a fourth page of one account within the window, without asking Atlassian, and no one else', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    for (const path of ['/requests', `/requests/${key}`, '/requests?q=printer'])
      expect((await alice.fetch(path)).status, path).to.equal(200);
    // The status names My requests left to read after it answered (ADR 0293) are not this page's calls.
    await h.app.statusNamesRead();
    const calls = h.exchanges.length;
    const from = h.logs.length;
    await expectLimited(h, await alice.fetch(`/requests/${key}`), from);
    expect(h.exchanges.length, 'Atlassian calls for the refused page').to.equal(calls);
    const bob = await signIn(h, 'bob@acme.test');
    expect((await bob.fetch('/requests')).status, 'another customer').to.equal(200);
  });

  it('counts the raise form’s article lookups as pages: the fourth is refused without a search', async () => {
    // The summary's related articles (ADR 0168) are a knowledge base search each: under the same
    // per-account budget as the pages that search it, so a script typing for ever spends only its own.
    const mia = await signIn(h, 'mia.manager@acme.test');
    for (const q of ['vpn', 'printer', 'password'])
      expect((await mia.fetch(`/desk/1/suggest?q=${q}`)).status, q).to.equal(200);
    const calls = h.exchanges.length;
    const from = h.logs.length;
    await expectLimited(h, await mia.fetch('/desk/1/suggest?q=laptop'), from);
    expect(h.exchanges.length, 'Atlassian calls for the refused lookup').to.equal(calls);
  });

  it('does not count request type icons, which a desk page asks for one per type', async () => {
    const erik = await signIn(h, 'erik@acme.test');
    const desk = await (await erik.fetch('/desk/1')).text();
    const icons = [...desk.matchAll(/src="(\/desk\/1\/icon\/\d+)"/g)].map((m) => m[1]!);
    expect(icons.length, 'icons on the desk page').to.be.above(2);
    // The router takes an address in any letter case (ADR 0306): so does the exemption.
    for (const icon of [...icons, ...icons.map((i) => i.toUpperCase())])
      expect((await erik.fetch(icon)).status, icon).to.equal(200);
    // The desk page was the first of three pages: two more are served, the fourth is not.
    expect((await erik.fetch('/requests')).status).to.equal(200);
    expect((await erik.fetch('/desk/1')).status).to.equal(200);
    const from = h.logs.length;
    await expectLimited(h, await erik.fetch('/requests'), from);
  });
});

describe('portal abuse limits: a method no route takes, signed in', () => {
  let h: Harness;
  before(async () => {
    // Nothing of Atlassian's kept between requests: each that reads the session asks Atlassian again
    // about the account (its standing, organizations, desks), as once their cache lifetime is over.
    h = await startHarness({ catalogueTtlMs: 0, portal: { limits: { signedInPages: { perAccount: 3 } } } });
  });
  after(() => h.close());

  it('answers OPTIONS, PUT, DELETE, PATCH and unknown methods 404 without reading the session: nothing asked of Atlassian, none of her pages spent (ADR 0339)', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const calls = h.exchanges.length;
    for (const method of ['OPTIONS', 'PUT', 'DELETE', 'PATCH', 'PROPFIND'])
      for (const path of ['/requests', `/requests/${key}`, '/nowhere']) {
        const answer = await alice.fetch(path, { method, headers: { origin: h.url } });
        expect(answer.status, `${method} ${path}`).to.equal(404);
        expect(answer.headers.get('cache-control'), `${method} ${path}`).to.equal('no-store');
      }
    expect(h.exchanges.length, 'Atlassian calls for methods no route takes').to.equal(calls);
    // Her three pages of the window are all still hers.
    for (const path of ['/requests', `/requests/${key}`, '/'])
      expect((await alice.fetch(path)).status, path).to.equal(200);
    const from = h.logs.length;
    await expectLimited(h, await alice.fetch('/requests'), from);
  });

  it('answers a POST to an address no POST route takes 404 without reading the session: nothing asked of Atlassian (ADR 0347)', async () => {
    const bob = await signIn(h, 'bob@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    // A form of her own origin, without its token.
    const post = (path: string) =>
      bob.fetch(path, {
        method: 'POST',
        headers: { origin: h.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'body=hello',
      });
    const calls = h.exchanges.length;
    // Pages that are only read, an address of no page, and one whose key does not decode.
    const paths = [
      '/requests',
      `/requests/${key}`,
      `/requests/${key}/share`,
      '/profile',
      '/nowhere',
      '/requests/%zz/comment',
    ];
    for (const path of paths) {
      const answer = await post(path);
      expect(answer.status, `POST ${path}`).to.equal(404);
      expect(answer.headers.get('cache-control'), `POST ${path}`).to.equal('no-store');
    }
    expect(h.exchanges.length, 'Atlassian calls for POSTs no route takes').to.equal(calls);
    // A POST route is still found in any letter case and with a trailing slash, as the router finds
    // it (ADR 0306, 0309): the session is read (Atlassian asked about the account), and the form
    // without its token is refused by the route.
    for (const path of [`/requests/${key}/comment`, `/REQUESTS/${key.toLowerCase()}/Comment/`]) {
      const before = h.exchanges.length;
      expect((await post(path)).status, `POST ${path}`).to.equal(403);
      expect(h.exchanges.length, `Atlassian calls for POST ${path}`).to.be.above(before);
    }
  });
});

describe('portal abuse limits: memory mode', () => {
  it('limits in the process when there is no Redis', async () => {
    const h = await startHarness({
      store: new MemoryFlowStore(),
      portal: { limits: { signInStarts: { perIp: 2 } } },
    });
    try {
      const start = () => fetch(`${h.url}/login`, { redirect: 'manual' });
      expect((await start()).status).to.equal(303);
      expect((await start()).status).to.equal(303);
      const from = h.logs.length;
      await expectLimited(h, await start(), from);
    } finally {
      await h.close();
    }
  });

  it('caps the memory flow store: a new flow beyond the cap is refused, existing ones stay', async () => {
    let now = 1_000_000;
    const store = new MemoryFlowStore({ maxEntries: 3, now: () => now });
    try {
      await store.put('a', '1', 60);
      await store.put('b', '1', 60);
      await store.put('c', '1', 600);
      const err = await store.put('d', '1', 60).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(FlowStoreFullError);
      expect((err as FlowStoreFullError).code).to.equal('FLOW_STORE_FULL');
      expect(
        await store.putIfAbsent('d', '1', 60).catch((e: unknown) => (e as FlowStoreFullError).code),
      ).to.equal('FLOW_STORE_FULL');
      await store.put('a', '2', 60); // replacing a key needs no room
      expect(await store.get('c')).to.equal('1');
      now += 61_000; // a and b expire
      await store.put('d', '1', 60);
      expect(await store.get('d')).to.equal('1');
    } finally {
      await store.close();
    }
  });

  it('answers 503 FLOW_STORE_FULL (not 500) when sign-in starts fill the memory store', async () => {
    const h = await startHarness({ store: new MemoryFlowStore({ maxEntries: 5 }) });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++)
        statuses.push((await fetch(`${h.url}/login`, { redirect: 'manual' })).status);
      expect(statuses.slice(0, 5)).to.deep.equal([303, 303, 303, 303, 303]);
      expect(statuses.slice(5)).to.deep.equal([503, 503, 503]);
      expect(reasons(h)).to.include('FLOW_STORE_FULL');
    } finally {
      await h.close();
    }
  });
});

describe('portal abuse limits: uploads are spooled, bounded and limited in concurrency', () => {
  let h: Harness;
  before(async () => {
    // A memory flow store: what is measured here is the upload path, and 36 MB crossing one test
    // process must not trip the Redis command deadline of the session lookup.
    h = await startHarness({ store: new MemoryFlowStore(), portal: { limits: { maxConcurrentUploads: 2 } } });
  });
  after(() => h.close());

  const spooledBytes = () => spooledOf(h);

  it('spools parallel 9 MB uploads to disk, refuses those beyond the concurrency limit, and cleans up', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    // Atlassian holds the files until every upload is there or answered: the two with a slot hold it
    // while the others arrive, however slowly a loaded machine runs them (a fixed 1.5 s delay only
    // made that likely).
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/servicedesk/',
      method: 'POST',
      heldUntil: held,
    });
    const size = 9 * 1024 * 1024;
    const upload = (i: number) => {
      const body = new FormData();
      body.append('_csrf', token);
      body.append('attachment', new Blob([new Uint8Array(size).fill(65 + i)]), `big-${i}.txt`);
      return alice.fetch(`/requests/${key}/attachment`, { method: 'POST', body, headers: { origin: h.url } });
    };
    const heapBefore = process.memoryUsage().heapUsed;
    const from = h.logs.length;
    const answered: Response[] = [];
    const uploads = [0, 1, 2, 3].map(async (i) => {
      const response = await upload(i);
      answered.push(response);
      return response;
    });
    let spooledWhileHeld: number;
    try {
      await eventually(
        async () => h.emulator.faults.hits()[0]! + answered.length === 4,
        'each upload at Atlassian or answered',
      );
      spooledWhileHeld = spooledBytes();
    } finally {
      release();
    }
    const responses = await Promise.all(uploads);
    h.emulator.faults.clear();
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([303, 303, 503, 503]);
    for (const busy of responses.filter((r) => r.status === 503)) {
      expect(busy.headers.get('retry-after')).to.equal('5');
      expect(await busy.text()).to.include('Many files are being uploaded');
    }
    expect(reasons(h, from)).to.include('PORTAL_UPLOADS_BUSY');
    expect(h.app.uploads.stats.peakActive).to.equal(2);
    expect(spooledWhileHeld, 'files waited on disk').to.be.at.least(size);
    // Slots are released as each response ends, just after the browser has it.
    await eventually(
      async () => h.app.uploads.stats.active === 0 && spooledBytes() === 0,
      'every slot given back and nothing left behind',
    );
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    expect(
      request.attachments.filter((a) => a.filename.startsWith('big-')).map((a) => a.content.length),
    ).to.deep.equal([size, size]);
    // Not a strict bound (the emulator in this process keeps the files), just no gross buffering.
    expect(process.memoryUsage().heapUsed - heapBefore).to.be.below(200 * 1024 * 1024);
  });
});
