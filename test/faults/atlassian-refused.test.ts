// The Atlassian site refusing the connection of a write (a site gone down, its port closed): the
// kernel refuses it before any byte of the request is written, so Atlassian received nothing. The
// transport told that from a connection lost after the request went out (both ATLASSIAN_UNREACHABLE):
// the post said "We could not confirm whether your comment was added" and held the form 30 s (ADR
// 0393), though nothing could have been made. Now the call is asked again at once, as a read is, and
// still refused it is said not added, the claim released: the same form writes it once (ADR 0397).
import { expect } from 'chai';
import { closedAfter, EVERY_CALL_CLOSES } from '../../testkit/closed-connections.js';
import { type CuttableForward, cuttableForward } from '../../testkit/cuttable-forward.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  signIn,
  startHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

/** The transport's retries of a call, here as in production. */
const RETRIES = 3;

describe('faults: Atlassian refusing the connection of a write', () => {
  let h: Harness;
  let alice: Browser;
  let forward: CuttableForward;
  /** How many attempts of the comment's call the site stays down for; it is back after the last. */
  let downFor = 0;
  before(async () => {
    // The site's URL is the forwarder's, which learns the emulator's port once the harness started it.
    let emulatorPort = 0;
    forward = await cuttableForward(() => emulatorPort);
    h = await startHarness({
      atlassian: { siteUrl: `http://127.0.0.1:${forward.port}` },
      transport: {
        maxRetries: RETRIES,
        onCall: (method, path, status) => {
          // Back before the page is drawn again, which reads the request (a listen on an address
          // starts at the next tick, before any later call connects).
          if (method === 'POST' && path.endsWith('/comment') && status === 'unsent' && --downFor === 0)
            void forward.admit();
        },
      },
    });
    emulatorPort = Number(new URL(h.emulator.url).port);
    h.emulator.faults.set(EVERY_CALL_CLOSES);
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
    await h?.close();
    await forward?.close();
  });

  const key = () => h.keyOf('Printer on 3rd floor jams every morning');
  const request = () => [...h.emulator.state.requests.values()].find((r) => r.key === key())!;
  const commentsUnder = (writeKey: string) =>
    request().comments.filter((c) => c.body.includes(`(portal reference ${writeKey})`));

  /**
   * The comment form of request `key`, posted with the site gone down once the post has looked for
   * its key: the forwarder stops listening as that look arrives, so the comment's own call, on a new
   * connection as every call here, is refused.
   */
  async function postRefused(body: string, attempts: number) {
    downFor = attempts;
    const page = (await alice.text(`/requests/${key()}`)).body;
    const action = `/requests/${key()}/comment`;
    const form = { _csrf: csrfOf(page), _write: writeKeyOf(page, action)!, body };
    h.emulator.faults.set(
      {
        pathPrefix: `/rest/api/3/issue/${key()}/comment`,
        method: 'GET',
        times: 1,
        onArrival: async (req) => {
          closedAfter(req);
          forward.refuse();
        },
      },
      EVERY_CALL_CLOSES,
    );
    try {
      return { action, form, res: await alice.post(action, form) };
    } finally {
      h.emulator.faults.set(EVERY_CALL_CLOSES);
    }
  }

  it('says a comment refused at every attempt was not added, keeps it, and the same form writes it once', async () => {
    const { action, form, res } = await postRefused('Refused, then sent.', RETRIES + 1);
    const page = await res.text();
    expect(commentsUnder(form._write), 'comments written').to.have.length(0);
    expect(res.status).to.equal(502);
    expect(page).to.not.contain('We could not confirm');
    expect(page).to.contain('Your comment was not added.');
    expect(page).to.contain('>Refused, then sent.</textarea>');
    expect(writeKeyOf(page, action), 'the same key').to.equal(form._write);
    // Not held 30 s: nothing was sent, so the form's claim was released.
    const again = await alice.post(action, { ...form, _csrf: csrfOf(page) });
    expect(again.status).to.equal(303);
    expect(commentsUnder(form._write), 'comments written').to.have.length(1);
  });

  it('sends a comment refused once again at once, and it is written once', async () => {
    const { form, res } = await postRefused('Refused once, sent by the post.', 1);
    expect(res.status).to.equal(303);
    expect(commentsUnder(form._write), 'comments written').to.have.length(1);
  });
});
