// What a customer types or is, and what Atlassian says back about it, never reaches a log line:
// the portal's representative flows run with every line captured, and no distinctive word of the
// customer's (e-mail, name, summary, description, comment) nor any cookie value is in any line.
// Atlassian's own error messages may quote those words, so its 400 and 500 bodies do here.
import { expect } from 'chai';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

const EMAIL = 'alice@acme.test';
const MARKERS = {
  displayName: 'Zephyrine Quillbottom',
  summary: 'Quokka-summary printer smoulders',
  description: 'Quokka-description the toner smells of marzipan',
  comment: 'Quokka-comment still smouldering on floor nine',
};

describe('portal logs: no personal data in any line', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, EMAIL, { displayName: MARKERS.displayName });
  });
  afterEach(() => h.emulator.faults.clear());

  async function raise(fields: Record<string, string>): Promise<Response> {
    const desk = (await alice.text('/desk/1')).body;
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
    const action = `/desk/1/create/${typeId}`;
    const body = new FormData();
    body.append('_csrf', csrfOf((await alice.text(action)).body));
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    return alice.fetch(action, { method: 'POST', body, headers: { origin: h.url } });
  }

  function expectNoMarkerLogged(): void {
    const lines = h.logs.map((l) => JSON.stringify(l));
    const secrets = [EMAIL, ...Object.values(MARKERS), ...alice.cookies.values()];
    for (const secret of secrets)
      expect(
        lines.filter((l) => l.includes(secret)),
        `log lines quoting ${secret}`,
      ).to.deep.equal([]);
  }

  it('signs in, raises a request, comments, and survives an Atlassian 400 and 500 quoting the input', async () => {
    // Atlassian refuses the create, quoting the summary it was sent.
    h.emulator.faults.set({
      status: 400,
      method: 'POST',
      pathPrefix: '/rest/servicedeskapi/request',
      times: 1,
      message: `Field summary '${MARKERS.summary}' is not valid`,
    });
    const refused = await raise({ f_summary: MARKERS.summary, f_description: MARKERS.description });
    expect(refused.status).to.equal(400);

    const created = await raise({ f_summary: MARKERS.summary, f_description: MARKERS.description });
    expect(created.status).to.equal(303);
    const key = /^\/requests\/([A-Z]+-\d+)\?/.exec(created.headers.get('location')!)![1]!;

    const page = (await alice.text(`/requests/${key}`)).body;
    const commented = await alice.post(`/requests/${key}/comment`, {
      body: MARKERS.comment,
      _csrf: csrfOf(page),
    });
    expect(commented.status).to.equal(303);

    // Atlassian fails reading the request, quoting its comment: the generic error handler's line.
    const from = h.logs.length;
    h.emulator.faults.set({
      status: 500,
      pathPrefix: `/rest/servicedeskapi/request/${key}`,
      message: `cannot render comment '${MARKERS.comment}' by ${MARKERS.displayName} <${EMAIL}>`,
    });
    const failed = await alice.fetch(`/requests/${key}`);
    expect(failed.status).to.equal(502);
    const line = h.logs.slice(from).find((l) => l['event'] === 'portal.atlassian_error');
    expect(line?.['reason']).to.equal('ATLASSIAN_ERROR');
    expect(line?.['upstreamStatus']).to.equal(500);

    expectNoMarkerLogged();
  });
});
