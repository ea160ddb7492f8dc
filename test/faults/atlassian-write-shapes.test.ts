// A write answered 2xx with JSON that is not the answer Atlassian documents for it (ADR 0296): a
// comment without its string `id`, a change of participants that is no page, files attached without
// their `attachments` page. Such an answer is something other than Atlassian answering (a gateway's
// `{}`), which may have done nothing: the portal said "done" to it, and a write never made was lost
// without a word. Now it is 502 ATLASSIAN_ERROR; a write made under a key is looked for and landed on
// where Atlassian made it, and nothing is sent twice.
import { expect } from 'chai';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import {
  attachNote,
  attemptSignIn,
  type Browser,
  csrfOf,
  type Harness,
  signIn,
  useHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

/** What the answer says that must never reach a log line. */
const SECRET = 'carol@acme.test';

describe("faults: a write answered 2xx with JSON that is not Atlassian's answer to it", () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test');
  });
  afterEach(() => h.emulator.faults.clear());

  const key = () => h.keyOf('Printer on 3rd floor jams every morning');
  const request = () => [...h.emulator.state.requests.values()].find((r) => r.key === key())!;
  /** Something in Atlassian's place answering `body`, having done nothing. */
  const answered = (body: string): FaultRule => ({ answer: { contentType: 'application/json', body } });

  /**
   * Runs `post` with Atlassian's answer to `method` `path` as `rule` says: the portal's status, how
   * many such calls were sent, and the lines logged. The fault's off-spec answer is dropped from the
   * harness's check of the exchanges (it is not the portal's).
   */
  async function writtenSo(rule: FaultRule, method: string, path: string, post: () => Promise<number>) {
    const [logs, exchanges] = [h.logs.length, h.exchanges.length];
    h.emulator.faults.set({ ...rule, pathPrefix: path, method, times: 1 });
    const status = await post();
    const sent = h.exchanges.slice(exchanges).filter((e) => e.method === method && e.path === path).length;
    h.exchanges.length = exchanges;
    return { status, sent, logged: h.logs.slice(logs) };
  }
  /** Refused as Atlassian's error, nothing of the answer logged. */
  const expectRefused = (logged: Record<string, unknown>[]) => {
    expect(logged.find((l) => l['event'] === 'portal.action_refused')).to.include({
      reason: 'ATLASSIAN_ERROR',
    });
    expect(logged.map((l) => l['reason'])).not.to.include('PORTAL_INTERNAL');
    expect(JSON.stringify(logged), 'what the answer said').not.to.contain(SECRET);
  };

  describe('a comment', () => {
    /** Posts a comment with Atlassian's answer as `rule` says; also the comments under its key. */
    async function commentAnswered(rule: FaultRule) {
      const detail = (await alice.text(`/requests/${key()}`)).body;
      const action = `/requests/${key()}/comment`;
      const form = { _csrf: csrfOf(detail), _write: writeKeyOf(detail, action)!, body: 'Any news?' };
      const outcome = await writtenSo(
        rule,
        'POST',
        `/rest/servicedeskapi/request/${key()}/comment`,
        async () => (await alice.post(action, form)).status,
      );
      const marker = `(portal reference ${form._write})`;
      return { ...outcome, written: request().comments.filter((c) => c.body.includes(marker)).length };
    }

    for (const [what, body] of [
      ['{}', '{}'],
      ['null', 'null'],
      ['an array', JSON.stringify([{ displayName: SECRET }])],
      ['a number for its id', JSON.stringify({ id: 7, body: SECRET })],
    ] as const)
      it(`is told failed when something answered ${what} and wrote nothing, sent once`, async () => {
        const { status, written, sent, logged } = await commentAnswered(answered(body));
        expect({ status, written, sent }).to.deep.equal({ status: 502, written: 0, sent: 1 });
        expectRefused(logged);
      });

    it('lands on the comment Atlassian wrote and answered null, written once', async () => {
      const { status, written, sent } = await commentAnswered({ rewriteJson: () => null });
      expect({ status, written, sent }).to.deep.equal({ status: 303, written: 1, sent: 1 });
    });
  });

  describe("a request's participants", () => {
    for (const change of ['add', 'remove'] as const)
      for (const [what, body] of [
        ['{}', '{}'],
        ['null', 'null'],
        ['a page without isLastPage', JSON.stringify({ values: [{ displayName: SECRET }] })],
      ] as const)
        it(`${change}: is told failed when something answered ${what} and changed nothing`, async () => {
          const bob = h.emulator.state.userByEmail('bob@acme.test')!.accountId;
          const r = request();
          r.participantIds = r.participantIds.filter((p) => p !== bob);
          if (change === 'remove') r.participantIds.push(bob);
          const before = [...r.participantIds];
          const page = await alice.text(`/requests/${key()}`);
          const { status, sent, logged } = await writtenSo(
            answered(body),
            change === 'add' ? 'POST' : 'DELETE',
            `/rest/servicedeskapi/request/${key()}/participant`,
            async () =>
              (
                await alice.post(`/requests/${key()}/participants/${change}`, {
                  accountId: bob,
                  _csrf: csrfOf(page.body),
                })
              ).status,
          );
          expect({ status, sent }).to.deep.equal({ status: 502, sent: 1 });
          expect(r.participantIds, 'the participants').to.deep.equal(before);
          expectRefused(logged);
        });
  });

  describe('files attached', () => {
    for (const [what, body] of [
      ['{}', '{}'],
      ['null', 'null'],
      ['attachments no page', JSON.stringify({ attachments: [{ filename: SECRET }] })],
    ] as const)
      it(`are told failed when something answered ${what} and attached nothing, sent once`, async () => {
        const files = request().attachments.length;
        const csrf = csrfOf((await alice.text(`/requests/${key()}`)).body);
        const { status, sent, logged } = await writtenSo(
          answered(body),
          'POST',
          `/rest/servicedeskapi/request/${key()}/attachment`,
          () => attachNote(h, alice, key(), csrf),
        );
        expect({ status, sent, files: request().attachments.length }).to.deep.equal({
          status: 502,
          sent: 1,
          files,
        });
        expectRefused(logged);
      });
  });

  // The writes Atlassian answers 204 No Content alone (ADR 0339): a 200, with a body or none, is not
  // their answer. Before, ADR 0296 left them: any 2xx was taken for the write made.
  const NOT_NO_CONTENT = [
    ['{}', '{}'],
    ['an empty 200', ''],
  ] as const;

  describe('a step of the workflow (204 No Content)', () => {
    /** Takes the first step offered on the request, with `comment` when given, answered as `rule` says. */
    async function stepAnswered(rule: FaultRule, comment?: string) {
      const action = `/requests/${key()}/transition`;
      const detail = (await alice.text(`/requests/${key()}`)).body;
      const step = new RegExp(`href="${action}/([0-9]+)"`).exec(detail)![1]!;
      const confirmation = (await alice.text(`${action}/${step}`)).body;
      const form = {
        _csrf: csrfOf(confirmation),
        _write: writeKeyOf(confirmation, action)!,
        transition: step,
        ...(comment === undefined ? {} : { body: comment }),
      };
      const steps = request().statusHistory.length;
      const outcome = await writtenSo(
        rule,
        'POST',
        `/rest/servicedeskapi/request/${key()}/transition`,
        async () => (await alice.post(action, form)).status,
      );
      return { ...outcome, taken: request().statusHistory.length - steps };
    }

    for (const [what, body] of NOT_NO_CONTENT)
      for (const comment of [undefined, 'Fixed on my side'])
        it(`is told failed when something answered ${what} and took no step, ${comment ? 'with' : 'without'} a comment`, async () => {
          const { status, sent, taken, logged } = await stepAnswered(answered(body), comment);
          expect({ status, sent, taken }).to.deep.equal({ status: 502, sent: 1, taken: 0 });
          expectRefused(logged);
        });
  });

  describe('a request shared with an organization (204 No Content)', () => {
    for (const [what, body] of NOT_NO_CONTENT)
      it(`is told failed when something answered ${what} and shared nothing`, async () => {
        const r = request();
        r.organizationIds = [];
        const page = (await alice.text(`/requests/${key()}`)).body;
        const organizationId = /id="share-organization".*?<option value="([0-9]+)"/s.exec(page)![1]!;
        const { status, sent, logged } = await writtenSo(
          answered(body),
          'PUT',
          `/rest/api/3/issue/${key()}`,
          async () =>
            (
              await alice.post(`/requests/${key()}/organizations/add`, {
                organizationId,
                _csrf: csrfOf(page),
              })
            ).status,
        );
        expect({ status, sent, shared: r.organizationIds }).to.deep.equal({
          status: 502,
          sent: 1,
          shared: [],
        });
        expectRefused(logged);
      });
  });

  describe("a sign-in's joins and leaves (204 No Content)", () => {
    /** Signs `email` in with Atlassian's answer to `method` `path` as `rule` says. */
    async function signedInSo(rule: FaultRule, method: string, path: string, email: string) {
      const { status, sent, logged } = await writtenSo(
        rule,
        method,
        path,
        async () => (await attemptSignIn(h, email)).status,
      );
      expect(logged.map((l) => l['reason']))
        .to.include('ATLASSIAN_ERROR')
        .and.not.include('PORTAL_INTERNAL');
      return { status, sent };
    }
    const ORGANIZATION_CHANGES = [
      // Bob's domain maps to Acme's organization: he is added to it.
      { change: 'join', email: 'bob@acme.test', method: 'POST', memberBefore: false },
      // Dana's maps to none: she is taken out of Acme's, which the tenant maps.
      { change: 'leave', email: 'dana@globex.test', method: 'DELETE', memberBefore: true },
    ] as const;

    for (const [n, [what, body]] of NOT_NO_CONTENT.entries()) {
      it(`refuses a new customer's sign-in when her desk's join was answered ${what}`, async () => {
        const email = `newcomer${n}@acme.test`;
        const path = '/rest/servicedeskapi/servicedesk/1/customer';
        expect(await signedInSo(answered(body), 'POST', path, email)).to.deep.equal({ status: 502, sent: 1 });
        const account = h.emulator.state.userByEmail(email)!.accountId;
        expect(h.emulator.state.serviceDesks.get('1')!.customerIds, 'the desk').not.to.include(account);
      });

      for (const { change, email, method, memberBefore } of ORGANIZATION_CHANGES)
        it(`refuses a sign-in whose organization ${change} was answered ${what}`, async () => {
          const acme = h.emulator.state.organizations.get('1')!;
          const account = h.emulator.state.userByEmail(email)!.accountId;
          acme.memberIds = [
            ...acme.memberIds.filter((m) => m !== account),
            ...(memberBefore ? [account] : []),
          ];
          const path = '/rest/servicedeskapi/organization/1/user';
          const { status, sent } = await signedInSo(answered(body), method, path, email);
          expect({ status, sent, member: acme.memberIds.includes(account) }).to.deep.equal({
            status: 502,
            sent: 1,
            member: memberBefore,
          });
        });
    }
  });
});
