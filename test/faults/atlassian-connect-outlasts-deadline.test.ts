// A write whose connection is still being made when the call's deadline passes: the TLS handshake
// with the site never ends (a balancer that accepts and never answers), so undici never handed the
// request to a connection and nothing of it reached Atlassian. The transport said it as any timeout,
// whose write may have been made: "We could not confirm whether your comment was added", the form
// held 30 s (ADR 0393), though it was not added. Now a timeout no attempt of which reached a
// connection is said not done, as a refusal is (ADR 0397): "Your comment was not added", the text
// kept under its key, the claim released, so the same form writes it once; counted `unsent`. A
// timeout once the request went out (Atlassian holding the write) still cannot tell (ADR 0402).
// The same for a comment with files whose first write, the file's upload, meets an address whose TCP
// connect never completes (a black hole: every SYN dropped).
import { expect } from 'chai';
import { createTlsFetch, type TlsFetch } from '../../common/tls/index.js';
import { type BlackHole, startBlackHole } from '../../testkit/black-hole.js';
import { EVERY_CALL_CLOSES } from '../../testkit/closed-connections.js';
import { type CuttableForward, cuttableForward } from '../../testkit/cuttable-forward.js';
import { eventually } from '../../testkit/envtest.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  holdNextWrite,
  signIn,
  startHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

describe('faults: a write whose connection to Atlassian outlasts the call’s deadline', () => {
  let h: Harness;
  let alice: Browser;
  let forward: CuttableForward;
  let ca: TestCa;
  let atlassianFetch: TlsFetch;
  let hole: BlackHole;
  /** Whether a file's upload (attachTemporaryFile) is sent to the black hole instead of the site. */
  let uploadsToHole = false;
  const uploadTarget = (url: string | URL | Request, init?: Parameters<TlsFetch>[1]) => {
    if (!uploadsToHole || init?.method !== 'POST' || url instanceof Request) return url;
    const target = new URL(String(url));
    if (!target.pathname.endsWith('/attachTemporaryFile')) return url;
    target.port = String(hole.port);
    return target;
  };
  const key = () => h.keyOf('Printer on 3rd floor jams every morning');
  const comments = (path: string) => `/rest/servicedeskapi/request/${key()}/comment${path}`;
  const request = () => [...h.emulator.state.requests.values()].find((r) => r.key === key())!;
  const commentsUnder = (writeKey: string) =>
    request().comments.filter((c) => c.body.includes(`(portal reference ${writeKey})`));
  /** The portal's Atlassian calls counted with `status`. */
  const callsCounted = async (status: string) =>
    ((await h.registry.getSingleMetric('jsm_sso_portal_atlassian_calls_total')?.get())?.values ?? [])
      .filter((v) => v.labels['status'] === status)
      .reduce((sum, v) => sum + v.value, 0);

  before(async () => {
    ca = makeTestCa();
    const site = ca.issue({ hosts: ['127.0.0.1'] });
    // The site over TLS behind a forwarder, whose held connections are accepted and never answered:
    // a TLS handshake that never ends. The site's URL is the forwarder's.
    let emulatorPort = 0;
    forward = await cuttableForward(() => emulatorPort);
    hole = await startBlackHole();
    const tlsFetch = createTlsFetch({ extraCaPem: ca.caPem });
    atlassianFetch = Object.assign(
      async (url: string | URL | Request, init?: Parameters<TlsFetch>[1]) => {
        try {
          return await tlsFetch(uploadTarget(url, init), init);
        } finally {
          // The comment's call given up: the site answers again for the page drawn next. The held
          // connection is handed on too, and its request aborted as it connects (ADR 0397).
          if (init?.method === 'POST') forward.resume();
        }
      },
      { close: () => tlsFetch.close() },
    );
    h = await startHarness({
      emulator: { tls: { load: () => ({ key: site.keyPem, cert: site.certPem }) } },
      atlassian: { siteUrl: `https://127.0.0.1:${forward.port}` },
      // The call's deadline 1 s, the write's budget 1.2 s: the post gives up when its call times out.
      transport: { timeoutMs: 1000, fetch: atlassianFetch },
      writes: { budgetMs: 1200 },
    });
    emulatorPort = h.emulator.port;
    h.emulator.faults.set(EVERY_CALL_CLOSES);
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
    await h?.close();
    await atlassianFetch?.close();
    await forward?.close();
    await hole?.close();
    ca?.cleanup();
  });

  /** The request's comment form, as Alice opens it. */
  async function commentForm(body: string) {
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/comment`;
    return { action, form: { _csrf: csrfOf(page), _write: writeKeyOf(page, action)!, body } };
  }

  it('says a comment whose TLS handshake never ended was not added, keeps it, and the same form writes it once', async () => {
    const { action, form } = await commentForm('Held at the handshake, then sent.');
    const unsentBefore = await callsCounted('unsent');
    // Connections opened from the post's look for its key on are held: the comment's own call, on a
    // connection of its own as every call here, is never handed to one.
    h.emulator.faults.set(
      {
        pathPrefix: `/rest/api/3/issue/${key()}/comment`,
        method: 'GET',
        times: 1,
        onArrival: async (req) => {
          await EVERY_CALL_CLOSES.onArrival!(req);
          forward.hold();
        },
      },
      EVERY_CALL_CLOSES,
    );
    const res = await alice.post(action, form);
    const page = await res.text();
    expect(forward.held(), 'connections held at their handshake').to.be.at.least(1);
    expect(res.status).to.equal(502);
    expect(page).to.not.contain('We could not confirm');
    expect(page).to.contain('Your comment was not added.');
    expect(page).to.contain('>Held at the handshake, then sent.</textarea>');
    expect(writeKeyOf(page, action), 'the same key').to.equal(form._write);
    expect(await callsCounted('unsent'), 'the call counted as sending nothing').to.equal(unsentBefore + 1);
    // Not held 30 s: nothing was sent, so the form's claim was released.
    const again = await alice.post(action, { ...form, _csrf: csrfOf(page) });
    expect(again.status, 'the same form sent again').to.equal(303);
    expect(commentsUnder(form._write), 'comments written').to.have.length(1);
  });

  it('says a comment with files whose upload’s TCP connect never completed was not added, keeps its text, and the same form writes it once', async () => {
    h.emulator.faults.set(EVERY_CALL_CLOSES);
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/comment`;
    const writeKey = writeKeyOf(page, action)!;
    const withFiles = (csrf: string) => {
      const form = new FormData();
      form.set('_csrf', csrf);
      form.set('_write', writeKey);
      form.set('body', 'Photos, held at connect.');
      form.append('attachment', new Blob(['a photo']), 'held-at-connect.txt');
      return form;
    };
    const post = (form: FormData) =>
      alice.fetch(action, { method: 'POST', body: form, headers: { origin: h.url } });
    const unsentBefore = await callsCounted('unsent');
    uploadsToHole = true;
    let res: Response;
    try {
      const posting = post(withFiles(csrfOf(page)));
      await eventually(
        async () => hole.connecting() > 0,
        'the upload’s connect unanswered at the black hole',
      );
      res = await posting;
    } finally {
      uploadsToHole = false;
    }
    const shown = await res.text();
    expect(res.status).to.equal(502);
    expect(shown).to.not.contain('We could not confirm');
    expect(shown).to.contain('Your comment was not added.');
    expect(shown).to.contain('>Photos, held at connect.</textarea>');
    expect(writeKeyOf(shown, action), 'the same key').to.equal(writeKey);
    expect(await callsCounted('unsent'), 'the upload counted as sending nothing').to.equal(unsentBefore + 1);
    expect(request().attachments.map((a) => a.filename)).to.not.include('held-at-connect.txt');
    // Not held: nothing was sent, so the form's claim was released.
    const again = await post(withFiles(csrfOf(shown)));
    expect(again.status, 'the same form sent again').to.equal(303);
    const written = commentsUnder(writeKey);
    expect(written, 'comments written').to.have.length(1);
    const files = request().attachments.filter((a) => a.filename === 'held-at-connect.txt');
    expect(written[0]!.attachmentIds).to.deep.equal(files.map((a) => a.id));
  });

  it('still cannot tell whether a comment was added whose call timed out once it went out', async () => {
    const { action, form } = await commentForm('Held by Atlassian.');
    const commit = holdNextWrite(h, comments(''));
    try {
      const res = await alice.post(action, form);
      const page = await res.text();
      expect(res.status).to.equal(502);
      expect(page).to.contain('We could not confirm whether your comment was added.');
      expect(page).to.not.contain('Your comment was not added.');
    } finally {
      commit();
    }
  });
});
