// Atlassian answering a read 200 with JSON of the wrong shape: `null`, an empty body, an array where
// an object is expected, a page without its `values`, a number where a string id is expected. Each
// is the site's fault, answered 502 ATLASSIAN_ERROR (upstreamStatus 200) with nothing of the answer
// logged, never a 500 PORTAL_INTERNAL (ADR 0275).
import { expect } from 'chai';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import { SERVICEDESK_IDS } from '../../portal/atlassian/shapes.js';
import { answeredPropertyTypes } from '../../testkit/atlassian-spec.js';
import {
  attachNote,
  type Browser,
  csrfOf,
  type Harness,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

/** What the answer says that must never reach a log line. */
const SECRET = 'carol@acme.test';

describe('faults: an Atlassian read answered 200 with JSON of the wrong shape', function () {
  this.timeout(60_000);
  let h: Harness;
  let alice: Browser;
  before(async () => {
    // Nothing kept between pages: each page reads the catalogue again.
    h = await startHarness({ catalogueTtlMs: 0 });
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
    await h?.close();
  });

  /** The rule's answer in place of Atlassian's: rewritten JSON, or a body sent as it is. */
  const shapes: { what: string; rule: Pick<FaultRule, 'rewriteJson' | 'answer'> }[] = [
    { what: 'null', rule: { rewriteJson: () => null } },
    { what: 'an empty body', rule: { answer: { contentType: 'application/json', body: '' } } },
    { what: 'an array', rule: { rewriteJson: () => [{ displayName: SECRET }] } },
    { what: 'a string', rule: { rewriteJson: () => SECRET } },
  ];
  /** A paged list's wrong shapes besides those: no `values`, `values` no array, no `isLastPage`. */
  const pageShapes: typeof shapes = [
    ...shapes,
    { what: 'no values', rule: { rewriteJson: () => ({ size: 0, start: 0, isLastPage: true }) } },
    {
      what: 'values no array',
      rule: { rewriteJson: (b) => ({ ...(b as object), values: { displayName: SECRET } }) },
    },
    // Taken for the last page before: a list of many pages ended at its first.
    { what: 'no isLastPage', rule: { rewriteJson: (b) => ({ ...(b as object), isLastPage: undefined }) } },
    {
      what: 'a number for an id',
      rule: {
        rewriteJson: (b) => {
          const page = b as { values: Record<string, unknown>[] };
          return { ...page, values: page.values.map((v) => ({ ...v, id: 1, accountId: 1 })) };
        },
      },
    },
  ];

  /**
   * Asks `ask` with Atlassian answering as `rule` says; returns the status and the lines logged,
   * and drops the off-spec exchanges (the fault's, not the portal's) from the harness's check.
   */
  async function answeredSo(
    rule: FaultRule,
    ask: () => Promise<number>,
  ): Promise<{ status: number; logged: Record<string, unknown>[] }> {
    const from = h.logs.length;
    const exchanged = h.exchanges.length;
    h.emulator.faults.set(rule);
    try {
      const status = await ask();
      return { status, logged: h.logs.slice(from) };
    } finally {
      h.emulator.faults.clear();
      h.exchanges.length = exchanged;
    }
  }
  /** The page 502 ATLASSIAN_ERROR with Atlassian's status (a create's 201), nothing of the answer logged. */
  const expectAtlassianError = (
    { status, logged }: { status: number; logged: Record<string, unknown>[] },
    upstreamStatus = 200,
  ) => {
    expect(status, 'the page').to.equal(502);
    const line = logged.find((l) => l['event'] === 'portal.atlassian_error');
    expect(line, 'the log line').to.include({ reason: 'ATLASSIAN_ERROR', upstreamStatus });
    expect(logged.map((l) => l['reason'])).not.to.include('PORTAL_INTERNAL');
    expect(JSON.stringify(logged), 'what the answer said').not.to.contain(SECRET);
  };

  for (const { what, rule } of [
    ...shapes,
    {
      what: 'a number for its issueKey',
      rule: { rewriteJson: (b: unknown) => ({ ...(b as object), issueKey: 12 }) },
    },
  ]) {
    it(`the request page, its request answered ${what}`, async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      expectAtlassianError(
        await answeredSo(
          { ...rule, pathPrefix: `/rest/servicedeskapi/request/${key}`, method: 'GET', times: 1 },
          async () => (await alice.text(`/requests/${key}`)).status,
        ),
      );
    });
  }

  for (const { what, rule } of [
    ...shapes,
    { what: 'no issues', rule: { rewriteJson: () => ({ isLast: true }) } },
  ]) {
    it(`my requests, the search answered ${what}`, async () => {
      expectAtlassianError(
        await answeredSo(
          { ...rule, pathPrefix: '/rest/api/3/search/jql', method: 'POST' },
          async () => (await alice.text('/requests')).status,
        ),
      );
    });
  }

  for (const { what, rule } of pageShapes) {
    it(`the help center's desks, their list answered ${what}`, async () => {
      expectAtlassianError(
        await answeredSo(
          { ...rule, pathPrefix: '/rest/servicedeskapi/servicedesk', method: 'GET' },
          async () => (await alice.text('/')).status,
        ),
      );
    });
  }

  for (const { what, rule } of pageShapes) {
    it(`a sign-in, a desk's customers found by his e-mail (he is one) answered ${what}`, async () => {
      expectAtlassianError(
        await answeredSo(
          { ...rule, pathPrefix: '/rest/servicedeskapi/servicedesk/1/customer', method: 'GET' },
          async () => {
            const err = await signIn(h, 'erik@acme.test').catch((e: Error) => e);
            return Number(/failed: ([0-9]{3})/.exec(String(err))?.[1] ?? 303);
          },
        ),
      );
    });
  }

  // The create done each time: the empty body sent in place of its answer, not in place of the work.
  const madeShapes = shapes.map(({ what, rule }) => ({
    what,
    rule: rule.answer ? { rewriteJson: () => undefined } : rule,
  }));
  for (const [i, { what, rule }] of madeShapes.entries()) {
    it(`a first sign-in, the customer's creation answered ${what}: made, found by the search, signed in`, async () => {
      // Someone Atlassian does not know yet, a new one each time (the create is done before it is answered).
      const email = `new-${i}@partner.test`;
      const { status, logged } = await answeredSo(
        { ...rule, pathPrefix: '/rest/servicedeskapi/customer', method: 'POST', times: 1 },
        async () => {
          const err = await signIn(h, email).catch((e: Error) => e);
          return Number(/failed: ([0-9]{3})/.exec(String(err))?.[1] ?? 303);
        },
      );
      // Atlassian answered 201: the account was made, and the search names it (ADR 0279, 0372).
      expect(status, 'the sign-in').to.equal(303);
      const made = h.emulator.state.userByEmail(email)!;
      const audited = logged.filter((l) => l['event'] === 'portal.audit').map((l) => l['action']);
      expect(audited[0]).to.equal('customer_created');
      expect(logged.find((l) => l['action'] === 'customer_created')?.['accountId']).to.equal(made.accountId);
      expect(JSON.stringify(logged), 'what the answer said').not.to.contain(SECRET);
    });
  }

  /** The temporary file's id of another shape: not a string (ADR 0296). */
  const uploadShapes: typeof shapes = [
    ...shapes,
    ...[
      { what: 'a number', id: 42 },
      { what: 'an object', id: { displayName: SECRET } },
    ].map(({ what, id }) => ({
      what: `${what} for its temporaryAttachmentId`,
      rule: {
        rewriteJson: () => ({ temporaryAttachments: [{ temporaryAttachmentId: id, fileName: 'note.txt' }] }),
      },
    })),
    {
      what: 'temporaryAttachments no array',
      rule: { rewriteJson: () => ({ temporaryAttachments: { temporaryAttachmentId: 'temp1' } }) },
    },
  ];
  for (const { what, rule } of uploadShapes) {
    it(`a file attached to a request, its upload answered ${what}`, async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
      const filesOf = () =>
        [...h.emulator.state.requests.values()].find((r) => r.key === key)!.attachments.length;
      const files = filesOf();
      let attachesSent = 0;
      const exchanged = h.exchanges.length;
      const { status, logged } = await answeredSo(
        { ...rule, pathPrefix: '/rest/servicedeskapi/servicedesk/1/attachTemporaryFile', method: 'POST' },
        async () => {
          const status = await attachNote(h, alice, key, csrf);
          attachesSent = h.exchanges
            .slice(exchanged)
            .filter(
              (e) => e.method === 'POST' && e.path === `/rest/servicedeskapi/request/${key}/attachment`,
            ).length;
          return status;
        },
      );
      // An action's refusal: its log line names the reason (not Atlassian's status).
      expect(status, 'the page').to.equal(502);
      expect(logged.find((l) => l['event'] === 'portal.action_refused')).to.include({
        reason: 'ATLASSIAN_ERROR',
      });
      expect(logged.map((l) => l['reason'])).not.to.include('PORTAL_INTERNAL');
      expect(JSON.stringify(logged), 'what the answer said').not.to.contain(SECRET);
      expect(filesOf(), 'files attached').to.equal(files);
      expect(attachesSent, 'files attached with an id not read').to.equal(0);
    });
  }
});

describe("an Atlassian read's shape", () => {
  it('takes as a string only the ids servicedeskapi documents as strings on every answer and page item', () => {
    const ids: readonly string[] = SERVICEDESK_IDS;
    const types = [...answeredPropertyTypes('servicedeskapi')].filter(([at]) =>
      ids.includes(at.split('.')[1]!),
    );
    expect(types.length, 'ids found in the spec').to.be.greaterThan(10);
    expect(types.filter(([, type]) => type !== 'string')).to.deep.equal([]);
  });
});
