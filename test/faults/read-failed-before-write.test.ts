// A read an action makes before its write (the look for the form's key, the request's visibility, the
// steps offered) answered 500: nothing was sent. The page said the write could not be confirmed ("We
// could not confirm whether your comment was added"), as for a write that may have been made, and a
// step's claim was left unconfirmed for as long as its form can be posted: the same form, sent again
// once Atlassian answered, wrote nothing (ADR 0389).
import { expect } from 'chai';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  keyedFileForm,
  keyedFileName,
  signIn,
  spooledBytes,
  useHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

describe('faults: a read before an action’s write fails', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });

  const key = () => h.keyOf('Printer on 3rd floor jams every morning');
  const request = () => [...h.emulator.state.requests.values()].find((r) => r.key === key())!;
  const bob = () => h.emulator.state.userByEmail('bob@acme.test')!.accountId;
  const comments = () => `/rest/api/3/issue/${key()}/comment`;

  /**
   * Posts `send` with Atlassian answering `read` 500 once; what the write endpoint (`write`, a path
   * prefix) was sent meanwhile. The fault's 500 is dropped from the harness's check of the exchanges
   * against Atlassian's specs, which is of the portal's calls.
   */
  async function withReadFailed(read: FaultRule, write: string, send: () => Promise<Response>) {
    const from = h.exchanges.length;
    h.emulator.faults.set({ ...read, status: 500, times: 1 });
    try {
      const res = await send();
      const page = await res.text();
      const writes = h.exchanges
        .slice(from)
        .filter((e) => e.method !== 'GET' && e.path.startsWith(write))
        .map((e) => `${e.method} ${e.path}`);
      return { status: res.status, page, writes };
    } finally {
      h.emulator.faults.clear();
      const faulted = h.exchanges.findIndex((e, i) => i >= from && e.status === 500);
      if (faulted >= 0) h.exchanges.splice(faulted, 1);
    }
  }

  it('a comment whose key is looked for in vain: says it was not added, keeps it, and the same form writes it once', async () => {
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/comment`;
    const form = { _csrf: csrfOf(page), _write: writeKeyOf(page, action)!, body: 'Sent once, after all.' };
    const failed = await withReadFailed({ pathPrefix: comments(), method: 'GET' }, comments(), () =>
      alice.post(action, form),
    );
    expect(failed.writes, 'comments sent').to.deep.equal([]);
    expect(failed.status).to.equal(502);
    expect(failed.page).to.contain('Your comment was not added.');
    expect(failed.page).to.not.contain('We could not confirm');
    expect(failed.page).to.contain('>Sent once, after all.</textarea>');
    expect(writeKeyOf(failed.page, action)).to.equal(form._write);
    const again = await alice.post(action, { ...form, _csrf: csrfOf(failed.page) });
    expect(again.status).to.equal(303);
    const written = request().comments.filter((c) => c.body.includes(`(portal reference ${form._write})`));
    expect(written, 'comments under the form’s key').to.have.length(1);
  });

  it('a comment on a request whose visibility cannot be read: says it was not added, not that it may have been', async () => {
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/comment`;
    const form = { _csrf: csrfOf(page), _write: writeKeyOf(page, action)!, body: 'Seen or not.' };
    const failed = await withReadFailed(
      { pathPrefix: `/rest/servicedeskapi/request/${key()}`, method: 'GET' },
      comments(),
      () => alice.post(action, form),
    );
    expect(failed.writes, 'comments sent').to.deep.equal([]);
    expect(failed.page).to.contain('Your comment was not added.');
    expect(failed.page).to.not.contain('We could not confirm');
    expect(failed.page).to.contain('>Seen or not.</textarea>');
  });

  // The forms with files read the request's visibility before their body (ADR 0392): that read failing
  // lost everything typed to the error page.
  const visibility = () => ({ pathPrefix: `/rest/servicedeskapi/request/${key()}`, method: 'GET' });

  it('a comment with a file on a request whose visibility cannot be read: keeps the text and the key, asks for the file again', async () => {
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/comment`;
    const form = keyedFileForm(page, action, { body: 'Typed before the outage.' });
    const failed = await withReadFailed(visibility(), `/rest/servicedeskapi/request/${key()}`, () =>
      alice.fetch(action, { method: 'POST', body: form, headers: { origin: h.url } }),
    );
    expect(failed.writes, 'writes sent').to.deep.equal([]);
    expect(failed.status).to.equal(502);
    expect(failed.page).to.contain('Your comment was not added.');
    expect(failed.page).to.not.contain('We could not confirm');
    expect(failed.page).to.contain('>Typed before the outage.</textarea>');
    expect(failed.page).to.contain('please choose your files again');
    expect(writeKeyOf(failed.page, action)).to.equal(form.get('_write'));
    await eventually(async () => spooledBytes(h) === 0, 'nothing of the file left spooled');
  });

  it('a file on a request whose visibility cannot be read: says it was not attached and keeps the form’s key', async () => {
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/attachment`;
    const form = keyedFileForm(page, action);
    const failed = await withReadFailed(visibility(), `/rest/servicedeskapi/request/${key()}`, () =>
      alice.fetch(action, { method: 'POST', body: form, headers: { origin: h.url } }),
    );
    expect(failed.writes, 'writes sent').to.deep.equal([]);
    expect(failed.status).to.equal(502);
    expect(failed.page).to.contain('Your file was not attached');
    expect(failed.page).to.not.contain('We could not confirm');
    expect(writeKeyOf(failed.page, action)).to.equal(form.get('_write'));
  });

  it('a comment with a file from a customer who may not see the request, its visibility unread: answered as a request that does not exist', async () => {
    const dana = await signIn(h, 'dana@globex.test');
    const csrf = csrfOf((await dana.text('/profile')).body);
    const probe = async (to: string) => {
      const form = new FormData();
      form.set('_csrf', csrf);
      form.set('body', 'Is it there?');
      form.set('attachment', new Blob(['x'.repeat(100_000)], { type: 'text/plain' }), 'probe.txt');
      // Her gate's search fails; read again for the page, it says no.
      const failed = await withReadFailed(
        { pathPrefix: '/rest/api/3/search/jql', method: 'POST' },
        '/rest/servicedeskapi/request/',
        () =>
          dana.fetch(`/requests/${to}/comment`, { method: 'POST', body: form, headers: { origin: h.url } }),
      );
      // Alike but for the key asked for, the page's nonce and its reference.
      const page = failed.page
        .replaceAll(to, 'KEY')
        .replace(/nonce="[^"]+"/g, 'nonce')
        .replace(/data-reference>[0-9a-f]+</, 'data-reference><');
      return { ...failed, page };
    };
    const hers = await probe(key());
    const none = await probe('HELP-98765');
    expect(hers.writes, 'writes sent').to.deep.equal([]);
    expect(hers.status).to.equal(404);
    expect(hers.page).to.not.contain('Is it there?');
    expect(hers.page).to.equal(none.page);
    expect(hers.status).to.equal(none.status);
    await eventually(async () => spooledBytes(h) === 0, 'nothing of her file left spooled');
  });

  it('a file whose key is looked for in vain: says it was not attached, and the same form attaches it once', async () => {
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/attachment`;
    const form = keyedFileForm(page, action);
    const send = () => alice.fetch(action, { method: 'POST', body: form, headers: { origin: h.url } });
    const failed = await withReadFailed(
      { pathPrefix: comments(), method: 'GET' },
      `/rest/servicedeskapi/request/${key()}/attachment`,
      send,
    );
    expect(failed.writes, 'attachments sent').to.deep.equal([]);
    expect(failed.page).to.contain('Your file was not attached');
    expect(failed.page).to.not.contain('We could not confirm');
    expect(writeKeyOf(failed.page, action)).to.equal(form.get('_write'));
    const again = await send();
    await again.arrayBuffer();
    expect(again.status).to.equal(303);
    const named = keyedFileName(String(form.get('_write')));
    const attached = request().attachments.filter((a) => a.filename === named);
    expect(attached, 'files attached under the form’s key').to.have.length(1);
  });

  it('a step whose offered steps cannot be read: says the request was not updated, and the same form takes it', async () => {
    const confirmation = (await alice.text(`/requests/${key()}/transition/761`)).body;
    const action = `/requests/${key()}/transition`;
    const form = {
      _csrf: csrfOf(confirmation),
      _write: writeKeyOf(confirmation, action)!,
      transition: '761',
    };
    const steps = `/rest/servicedeskapi/request/${key()}/transition`;
    const failed = await withReadFailed({ pathPrefix: steps, method: 'GET' }, steps, () =>
      alice.post(action, form),
    );
    expect(failed.writes, 'steps sent').to.deep.equal([]);
    expect(request().status).to.not.equal('Resolved');
    expect(failed.page).to.contain('The request was not updated.');
    expect(failed.page).to.not.contain('We could not confirm');
    // Its claim is not left saying the step may have been taken: the same form takes it.
    const again = await alice.post(action, { ...form, _csrf: csrfOf(failed.page) });
    expect(again.status).to.equal(303);
    expect(request().status).to.equal('Resolved');
  });

  it('a share on a request whose visibility cannot be read: says sharing was not changed', async () => {
    request().participantIds = [];
    const page = (await alice.text(`/requests/${key()}`)).body;
    const participants = `/rest/servicedeskapi/request/${key()}/participant`;
    const failed = await withReadFailed(
      { pathPrefix: `/rest/servicedeskapi/request/${key()}`, method: 'GET' },
      participants,
      () => alice.post(`/requests/${key()}/participants/add`, { accountId: bob(), _csrf: csrfOf(page) }),
    );
    expect(failed.writes, 'participants sent').to.deep.equal([]);
    expect(failed.page).to.contain('Sharing was not changed.');
    expect(request().participantIds).to.deep.equal([]);
  });
});
