// A request moved to another project changes its key; Jira keeps the old one ("the old link … continues
// to work because it redirects your browser" to the new key), and so does Atlassian's portal. Here an
// old key leads to the new one only for a customer who may see the request where it is now; for
// anyone else it is a key that does not exist (ADR 0207).
import { expect } from 'chai';
import type { CustomerRequest } from '../../dev/jsm-emulator/state.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  useHarness,
  withoutAnswerReference,
} from '../../testkit/portal-harness.js';

describe('portal: a request moved to another project (its key changed)', () => {
  let h: Harness;
  let alice: Browser;
  let erik: Browser;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test');
      // Erik is a customer of IT Help only, in no organization: he may not use the HR desk.
      erik = await signIn(h, 'erik@acme.test');
    },
    { atlassian: { organizationMappings: [] } },
  );
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  let moves = 0;
  /** As an agent's "Move" does: another desk, a request type of it, a new key; the old key kept. */
  const moveToHr = (r: CustomerRequest): { from: string; to: string } => {
    const hr = [...h.emulator.state.serviceDesks.values()].find((d) => d.projectKey === 'HR')!;
    const type = [...h.emulator.state.requestTypes.values()].find((t) => t.serviceDeskId === hr.id)!;
    const from = r.key;
    r.previousKeys = [...(r.previousKeys ?? []), from];
    r.key = `HR-${900 + ++moves}`;
    r.serviceDeskId = hr.id;
    r.requestTypeId = type.id;
    return { from, to: r.key };
  };

  it('leads the customer from the old key to the new one, page and files', async () => {
    const laptop = request('Laptop screen flickers');
    laptop.attachments.push({
      id: '99101',
      filename: 'flicker.txt',
      mimeType: 'text/plain',
      content: Buffer.from('it flickers'),
      authorId: laptop.reporterId,
      created: Date.now(),
    });
    const { from, to } = moveToHr(laptop);
    const logFrom = h.logs.length;
    const page = await alice.fetch(`/requests/${from}`);
    expect(page.status).to.equal(301);
    expect(reasons(h, logFrom)).to.deep.equal(['PORTAL_REQUEST_MOVED']);
    expect(page.headers.get('location')).to.equal(`/requests/${to}`);
    const moved = await alice.text(page.headers.get('location')!);
    expect(moved.status).to.equal(200);
    expect(moved.body).to.include('Laptop screen flickers');
    const file = await alice.fetch(`/requests/${from}/attachment/99101?x=1`);
    expect(file.status).to.equal(301);
    expect(file.headers.get('location')).to.equal(`/requests/${to}/attachment/99101?x=1`);
  });

  it('tells nobody else where a request went: 404 as for a key that never existed', async () => {
    // Alice's request, moved: Erik could not see it before and cannot now.
    const printer = request('Printer on 3rd floor jams every morning');
    const { from, to } = moveToHr(printer);
    const never = await erik.text('/requests/IT-98765');
    const from1 = h.logs.length;
    const other = await erik.text(`/requests/${from}`);
    expect(other.status).to.equal(404);
    expect(other.res.headers.get('location')).to.equal(null);
    expect(other.body).to.not.include(to);
    const page = (body: string, key: string) =>
      withoutAnswerReference(body.replaceAll(key, '{key}').replace(/nonce="[^"]+"/g, ''));
    expect(page(other.body, from)).to.equal(page(never.body, 'IT-98765'));
    expect(reasons(h, from1)).to.include('PORTAL_REQUEST_NOT_FOUND');
  });

  it('does not lead its own reporter to a desk he may not use', async () => {
    // Erik's request, moved to HR, a desk he may not use: Atlassian's portal no longer shows it to him.
    const wifi = request('Wi-Fi drops in meeting room Nile');
    const { from, to } = moveToHr(wifi);
    const old = await erik.text(`/requests/${from}`);
    expect(old.status).to.equal(404);
    expect(old.body).to.not.include(to);
    expect((await erik.text(`/requests/${to}`)).status).to.equal(404);
  });

  it('answers a form sent to the old key as for the new one (307, the method kept)', async () => {
    const monitor = request('Second monitor for home office');
    const { from, to } = moveToHr(monitor);
    const csrf = csrfOf((await alice.text('/profile')).body);
    const comments = monitor.comments.length;
    const posted = await alice.post(`/requests/${from}/comment`, { body: 'moved?', _csrf: csrf });
    expect(posted.status).to.equal(307);
    expect(posted.headers.get('location')).to.equal(`/requests/${to}/comment`);
    expect(monitor.comments, 'nothing written under the old key').to.have.length(comments);
    // The browser sends the same form again there, and it is taken.
    const again = await alice.post(posted.headers.get('location')!, { body: 'moved?', _csrf: csrf });
    expect(again.status).to.equal(303);
    expect(monitor.comments).to.have.length(comments + 1);
  });
});
