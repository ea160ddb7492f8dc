import { expect } from 'chai';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import {
  documentedOperations,
  experimentalOperations,
  validateAgainstSpec,
} from '../../testkit/atlassian-spec.js';
import { specClient } from '../../testkit/jsm-emulator-client.js';

// biome-ignore lint/suspicious/noExplicitAny: replies are read loosely in assertions; chai checks the values and the spec validator checks the shapes
type Json = Record<string, any>;
const SD = '/rest/servicedeskapi';

/** Operations no customer portal needs (agent queues, CSAT, properties...), left out of the emulator. */
const NOT_EMULATED = new Set<string>([
  'GET /rest/servicedeskapi/info',
  'GET /rest/servicedeskapi/assets/workspace',
  'GET /rest/servicedeskapi/insight/workspace',
  'GET /rest/servicedeskapi/request/{requestIdOrKey}/feedback',
  'POST /rest/servicedeskapi/request/{requestIdOrKey}/feedback',
  'DELETE /rest/servicedeskapi/request/{requestIdOrKey}/feedback',
  'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/queue',
  'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/queue/{queueId}',
  'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/queue/{queueId}/issue',
  'DELETE /rest/servicedeskapi/servicedesk/{serviceDeskId}/customer',
  'POST /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype',
  'DELETE /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}',
  'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}/property',
  'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}/property/{propertyKey}',
  'PUT /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}/property/{propertyKey}',
  'DELETE /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}/property/{propertyKey}',
  'GET /rest/servicedeskapi/organization/{organizationId}/property',
  'GET /rest/servicedeskapi/organization/{organizationId}/property/{propertyKey}',
  'PUT /rest/servicedeskapi/organization/{organizationId}/property/{propertyKey}',
  'DELETE /rest/servicedeskapi/organization/{organizationId}/property/{propertyKey}',
]);
const EXP = { 'X-ExperimentalApi': 'opt-in' };

/** The Jira platform operations the emulator serves: the ones a customer portal needs. */
const EMULATED_PLATFORM = new Set<string>([
  'GET /rest/api/3/myself',
  'GET /rest/api/3/user',
  'GET /rest/api/3/user/search',
  'GET /rest/api/3/user/bulk',
  'POST /rest/api/3/search/jql',
  'POST /rest/api/3/search/approximate-count',
  'GET /rest/api/3/field',
  'PUT /rest/api/3/issue/{issueIdOrKey}',
  'GET /rest/api/3/issue/{issueIdOrKey}/comment',
  'GET /rest/api/3/search',
  'POST /rest/api/3/search',
  'GET /rest/api/3/attachment/content/{id}',
  'GET /rest/api/3/attachment/thumbnail/{id}',
]);

describe("JSM emulator: every exchange conforms to Atlassian's servicedeskapi and Jira platform specs", () => {
  let emulator: RunningJsmEmulator;
  const seen = new Set<string>();
  let agent: ReturnType<typeof specClient>;
  before(async () => {
    emulator = await startJsmEmulator({});
    agent = specClient({
      baseUrl: emulator.url,
      ...SERVICE_ACCOUNT,
      seen,
    });
  });
  after(() => emulator.close());

  it('serves desks, request type groups, request types and their fields', async () => {
    const desks = (await agent('GET', `${SD}/servicedesk`)).body as Json;
    expect(desks.values.map((d: Json) => d.projectKey)).to.deep.equal(['IT', 'HR']);
    expect((await agent('GET', `${SD}/servicedesk/IT`)).body).to.include({ projectKey: 'IT' });
    const groups = (await agent('GET', `${SD}/servicedesk/1/requesttypegroup`)).body as Json;
    expect(groups.values.map((g: Json) => g.name)).to.include('Access');
    const types = (await agent('GET', `${SD}/servicedesk/1/requesttype?expand=field&limit=3`)).body as Json;
    expect(types.size).to.equal(3);
    expect(types.isLastPage).to.equal(false);
    expect(types._links.next).to.match(/start=3/);
    const laptop = (await agent('GET', `${SD}/servicedesk/1/requesttype?searchQuery=laptop`)).body as Json;
    const rt = laptop.values[0];
    expect((await agent('GET', `${SD}/servicedesk/1/requesttype/${rt.id}`)).body).to.include({
      name: 'Report a broken laptop',
    });
    const fields = (await agent('GET', `${SD}/servicedesk/1/requesttype/${rt.id}/field`)).body as Json;
    const device = fields.requestTypeFields.find((f: Json) => f.name === 'Device');
    expect(device.jiraSchema.type).to.equal('option-with-child');
    expect(device.validValues[0].children).to.have.length(3);
    expect(device.required).to.equal(true);
    expect((await agent('GET', `${SD}/requesttype`, { headers: EXP })).status).to.equal(200);
  });

  it('creates requests with every field input format and attachments', async () => {
    const upload = new FormData();
    upload.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
    const temp = (
      await agent('POST', `${SD}/servicedesk/1/attachTemporaryFile`, {
        form: upload,
        headers: { 'X-Atlassian-Token': 'no-check', ...EXP },
      })
    ).body as Json;
    const tempId = temp.temporaryAttachments[0].temporaryAttachmentId;
    const types = ((await agent('GET', `${SD}/servicedesk/1/requesttype?expand=field`)).body as Json)
      .values as Json[];
    const byName = (n: string) => types.find((t) => t.name === n) as Json;
    const fieldId = (rt: Json, name: string) =>
      rt.fields.requestTypeFields.find((f: Json) => f.name === name).fieldId;
    const laptop = byName('Report a broken laptop');
    const alice = emulator.state.userByEmail('alice@acme.test')!;
    const bob = emulator.state.userByEmail('bob@acme.test')!;
    const created = await agent('POST', `${SD}/request`, {
      json: {
        serviceDeskId: '1',
        requestTypeId: laptop.id,
        raiseOnBehalfOf: alice.accountId,
        requestParticipants: [bob.accountId],
        requestFieldValues: {
          summary: 'Keyboard dead',
          description: 'No keys work.\n\nSince Monday.',
          [fieldId(laptop, 'Device')]: { value: 'Laptop', child: { value: 'ThinkPad X1' } },
          [fieldId(laptop, 'Asset tag')]: 'ACME-7',
          attachment: [tempId],
        },
      },
    });
    expect(created.status).to.equal(201);
    const body = created.body as Json;
    expect(body.issueKey).to.match(/^IT-\d+$/);
    expect(body.reporter.accountId).to.equal(alice.accountId);
    const attached = (await agent('GET', `${SD}/request/${body.issueKey}?expand=attachment`)).body as Json;
    expect(attached.attachments.values[0].filename).to.equal('hello.txt');
    expect(
      body.requestFieldValues.find((v: Json) => v.fieldId === 'description').renderedValue.html,
    ).to.contain('<p>');
    const hw = byName('Request new hardware');
    const hardware = await agent('POST', `${SD}/request`, {
      json: {
        serviceDeskId: '1',
        requestTypeId: hw.id,
        requestFieldValues: {
          summary: 'Dock',
          [fieldId(hw, 'Items')]: [
            { id: hw.fields.requestTypeFields.find((f: Json) => f.name === 'Items').validValues[1].value },
          ],
          [fieldId(hw, 'Needed by')]: '2031-02-03',
          [fieldId(hw, 'Budget (EUR)')]: 120.5,
          [fieldId(hw, 'Product link')]: 'https://shop.example/dock',
        },
      },
    });
    expect((hardware.body as Json).currentStatus.status).to.equal('Waiting for approval');
    const sw = byName('Request software');
    const access = byName('Request access');
    for (const [rt, values] of [
      [
        sw,
        {
          summary: 'Visio',
          [fieldId(sw, 'Software')]: { value: 'Other' },
          [fieldId(sw, 'Platforms')]: [{ value: 'Linux' }],
        },
      ],
      [
        access,
        {
          summary: 'VPN',
          [fieldId(access, 'System')]: { value: 'VPN' },
          [fieldId(access, 'Access from')]: '2031-01-01T08:00:00.000+0100',
          labels: ['a', 'b'],
        },
      ],
    ] as [Json, Json][]) {
      expect(
        (
          await agent('POST', `${SD}/request`, {
            json: { serviceDeskId: '1', requestTypeId: rt.id, requestFieldValues: values },
          })
        ).status,
      ).to.equal(201);
    }
  });

  it('refuses invalid create requests with Atlassian error bodies', async () => {
    const types = ((await agent('GET', `${SD}/servicedesk/1/requesttype?expand=field`)).body as Json)
      .values as Json[];
    const hw = types.find((t) => t.name === 'Request new hardware') as Json;
    const laptop = types.find((t) => t.name === 'Report a broken laptop') as Json;
    const id = (rt: Json, name: string) =>
      rt.fields.requestTypeFields.find((f: Json) => f.name === name).fieldId;
    const cases: [Json, number, RegExp][] = [
      [{ serviceDeskId: '1', requestTypeId: '1', requestFieldValues: {} }, 400, /Summary is required/],
      [
        { serviceDeskId: '1', requestTypeId: '999', requestFieldValues: { summary: 'x' } },
        400,
        /request type '999'/,
      ],
      [
        {
          serviceDeskId: '1',
          requestTypeId: '1',
          requestFieldValues: { summary: 'x', customfield_99999: 1 },
        },
        400,
        /customfield_99999/,
      ],
      [
        {
          serviceDeskId: '1',
          requestTypeId: laptop.id,
          requestFieldValues: {
            summary: 'x',
            description: 'y',
            [id(laptop, 'Device')]: { value: 'Toaster' },
          },
        },
        400,
        /not valid/,
      ],
      [
        {
          serviceDeskId: '1',
          requestTypeId: hw.id,
          requestFieldValues: {
            summary: 'x',
            [id(hw, 'Items')]: [{ value: 'Monitor' }],
            [id(hw, 'Needed by')]: '2031-13-45',
          },
        },
        400,
        /YYYY-MM-DD/,
      ],
      [
        {
          serviceDeskId: '1',
          requestTypeId: hw.id,
          requestFieldValues: {
            summary: 'x',
            [id(hw, 'Items')]: [{ value: 'Monitor' }],
            [id(hw, 'Budget (EUR)')]: 'ten',
          },
        },
        400,
        /number/,
      ],
      [
        {
          serviceDeskId: '1',
          requestTypeId: hw.id,
          requestFieldValues: {
            summary: 'x',
            [id(hw, 'Items')]: [{ value: 'Monitor' }],
            [id(hw, 'Product link')]: 'javascript:alert(1)',
          },
        },
        400,
        /URL/,
      ],
    ];
    for (const [json, status, message] of cases) {
      const reply = await agent('POST', `${SD}/request`, { json });
      expect(reply.status, JSON.stringify(json)).to.equal(status);
      expect((reply.body as Json).errorMessage).to.match(message);
    }
    expect((await agent('GET', `${SD}/request/IT-9999`)).status).to.equal(404);
  });

  it('serves request detail, status history, transitions, comments, attachments, participants, notifications and SLAs', async () => {
    const key = 'IT-1';
    const detail = (
      await agent(
        'GET',
        `${SD}/request/${key}?expand=serviceDesk,requestType,participant,status,sla,attachment,action,comment`,
      )
    ).body as Json;
    expect(detail.comments.values.some((c: Json) => c.public === false)).to.equal(true);
    expect((await agent('GET', `${SD}/request/${key}/status`)).body).to.have.nested.property(
      'values[0].status',
      'In progress',
    );
    const transitions = (await agent('GET', `${SD}/request/${key}/transition`)).body as Json;
    expect(transitions.values.map((t: Json) => t.name)).to.include('Resolve this issue');
    expect(
      (await agent('POST', `${SD}/request/${key}/transition`, { json: { id: 'nope' } })).status,
    ).to.equal(400);
    expect(
      (
        await agent('POST', `${SD}/request/${key}/transition`, {
          json: { id: '761', additionalComment: { body: 'Fixed.' } },
        })
      ).status,
    ).to.equal(204);
    expect(((await agent('GET', `${SD}/request/${key}`)).body as Json).currentStatus.statusCategory).to.equal(
      'DONE',
    );
    const comment = (
      await agent('POST', `${SD}/request/${key}/comment`, { json: { body: 'Internal note', public: false } })
    ).body as Json;
    expect((await agent('GET', `${SD}/request/${key}/comment/${comment.id}`)).body).to.include({
      public: false,
    });
    expect(
      ((await agent('GET', `${SD}/request/${key}/comment?internal=false`)).body as Json).values.every(
        (c: Json) => c.public,
      ),
    ).to.equal(true);
    const attachments = (await agent('GET', `${SD}/request/IT-2/attachment`)).body as Json;
    const png = attachments.values.find((a: Json) => a.mimeType === 'image/png');
    const redirect = await fetch(png._links.content, {
      headers: {
        authorization: `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`,
      },
    });
    expect(redirect.status).to.equal(200);
    expect((await redirect.arrayBuffer()).byteLength).to.equal(png.size);
    expect(
      (await agent('GET', `${SD}/request/IT-2/attachment/${png._links.content.split('/').pop()}/thumbnail`))
        .status,
    ).to.equal(200);
    const upload = new FormData();
    upload.append('file', new Blob(['log'], { type: 'text/plain' }), 'log.txt');
    const temp = (
      await agent('POST', `${SD}/servicedesk/IT/attachTemporaryFile`, {
        form: upload,
        headers: { 'X-Atlassian-Token': 'no-check' },
      })
    ).body as Json;
    const added = await agent('POST', `${SD}/request/IT-2/attachment`, {
      json: {
        temporaryAttachmentIds: [temp.temporaryAttachments[0].temporaryAttachmentId],
        public: true,
        additionalComment: { body: 'Logs' },
      },
    });
    expect(added.status).to.equal(201);
    const erik = emulator.state.userByEmail('erik@acme.test')!;
    const participants = (
      await agent('POST', `${SD}/request/IT-2/participant`, { json: { accountIds: [erik.accountId] } })
    ).body as Json;
    expect(participants.values.map((u: Json) => u.accountId)).to.include(erik.accountId);
    expect(
      (
        (await agent('DELETE', `${SD}/request/IT-2/participant`, { json: { accountIds: [erik.accountId] } }))
          .body as Json
      ).size,
    ).to.equal(0);
    expect(((await agent('GET', `${SD}/request/IT-2/participant`)).body as Json).size).to.equal(0);
    expect((await agent('GET', `${SD}/request/IT-2/notification`)).body).to.deep.equal({ subscribed: false });
    expect((await agent('PUT', `${SD}/request/IT-2/notification`)).status).to.equal(204);
    expect((await agent('GET', `${SD}/request/IT-2/notification`)).body).to.deep.equal({ subscribed: true });
    expect((await agent('DELETE', `${SD}/request/IT-2/notification`)).status).to.equal(204);
    const slas = (await agent('GET', `${SD}/request/IT-2/sla`)).body as Json;
    expect((await agent('GET', `${SD}/request/IT-2/sla/${slas.values[0].id}`)).body).to.include({
      name: 'Time to first response',
    });
  });

  it("caps a request's comments below the limit asked, as Atlassian caps a method's pages (size < limit, isLastPage false)", async () => {
    const request = emulator.state.requestByIdOrKey('IT-3')!;
    const kept = request.comments;
    const ian = emulator.state.userByEmail('ian.it@acme.test')!;
    request.comments = Array.from({ length: 60 }, (_, i) => ({
      id: String(96000 + i),
      authorId: ian.accountId,
      body: `Note ${i}`,
      public: true,
      created: request.created + i,
      attachmentIds: [],
    }));
    try {
      const first = (await agent('GET', `${SD}/request/IT-3/comment?start=0&limit=50`)).body as Json;
      expect(first).to.include({ size: 25, start: 0, limit: 50, isLastPage: false });
      expect(first.values.map((c: Json) => c.id)).to.deep.equal(
        request.comments.slice(0, 25).map((c) => c.id),
      );
      expect(first._links.next).to.match(/[?&]start=25(&|$)/);
      const last = (await agent('GET', `${SD}/request/IT-3/comment?start=50&limit=50`)).body as Json;
      expect(last).to.include({ size: 10, start: 50, isLastPage: true });
      emulator.state.pageLimits.comment = 100;
      const whole = (await agent('GET', `${SD}/request/IT-3/comment?limit=100`)).body as Json;
      expect(whole).to.include({ size: 60, isLastPage: true });
    } finally {
      emulator.state.pageLimits.comment = 25;
      request.comments = kept;
    }
  });

  it('lists requests with ownership, status, desk, type, search term and paging', async () => {
    const all = (await agent('GET', `${SD}/request?requestOwnership=ALL_REQUESTS&limit=5&expand=requestType`))
      .body as Json;
    expect(all.size).to.equal(5);
    expect(all.isLastPage).to.equal(false);
    const closed = (
      await agent(
        'GET',
        `${SD}/request?requestOwnership=ALL_REQUESTS&requestStatus=CLOSED_REQUESTS&serviceDeskId=2&limit=50`,
      )
    ).body as Json;
    expect(
      closed.values.every((r: Json) => r.currentStatus.statusCategory === 'DONE' && r.serviceDeskId === '2'),
    ).to.equal(true);
    const vpn = (await agent('GET', `${SD}/request?requestOwnership=ALL_REQUESTS&searchTerm=vpn`))
      .body as Json;
    expect(vpn.values.map((r: Json) => r.requestFieldValues[0].value)).to.include('VPN access for travel');
    const mine = (await agent('GET', `${SD}/request`)).body as Json;
    const bot = emulator.state.userByEmail('portal-bot@acme.test')!;
    expect(
      mine.values.every((r: Json) => r.reporter.accountId === bot.accountId),
      'by default only what the caller reported',
    ).to.equal(true);
  });

  /** Mia, the approver of the seed's IT-3, calling as herself. */
  const miaClient = () =>
    specClient({ baseUrl: emulator.url, email: 'mia.manager@acme.test', apiToken: 'mia-dev-token', seen });

  it('answers approvals once and 409 after', async () => {
    const mia = miaClient();
    const approvals = (await mia('GET', `${SD}/request/IT-3/approval`)).body as Json;
    const id = approvals.values[0].id;
    expect(approvals.values[0].canAnswerApproval).to.equal(true);
    expect(
      (await agent('POST', `${SD}/request/IT-3/approval/${id}`, { json: { decision: 'approve' } })).status,
    ).to.equal(403);
    const decided = (
      await mia('POST', `${SD}/request/IT-3/approval/${id}`, { json: { decision: 'approve' } })
    ).body as Json;
    expect(decided.finalDecision).to.equal('approved');
    expect((await mia('GET', `${SD}/request/IT-3/approval/${id}`)).body).to.include({
      finalDecision: 'approved',
    });
    expect(
      (await mia('POST', `${SD}/request/IT-3/approval/${id}`, { json: { decision: 'decline' } })).status,
    ).to.equal(409);
  });

  it("searches JSM's approval functions as the service account, agreeing with the approver's own list", async () => {
    const mia = miaClient();
    const miaId = emulator.state.userByEmail('mia.manager@acme.test')!.accountId;
    const keys = async (jql: string) =>
      (
        (
          await agent('POST', '/rest/api/3/search/jql', {
            json: { jql, fields: ['summary'], maxResults: 100 },
          })
        ).body as Json
      ).issues
        .map((i: Json) => i.key)
        .sort();
    const ownList = async (approvalStatus: string) =>
      (
        (
          await mia(
            'GET',
            `${SD}/request?requestOwnership=APPROVER&approvalStatus=${approvalStatus}&limit=100`,
          )
        ).body as Json
      ).values
        .map((r: Json) => r.issueKey)
        .sort();
    // What the servicedeskapi lists for Mia herself (caller-relative) is what JQL finds naming her.
    const pending = await keys(`approvals = pendingApprovalBy("${miaId}")`);
    expect(pending).to.not.be.empty;
    expect(pending).to.deep.equal(await ownList('MY_PENDING_APPROVAL'));
    expect(await keys(`approvals = approver("${miaId}")`)).to.deep.equal(
      await ownList('MY_HISTORY_APPROVAL'),
    );
    // Answered, a request leaves pendingApprovalBy() and stays under approver().
    const key = pending[0] as string;
    const approval = ((await mia('GET', `${SD}/request/${key}/approval`)).body as Json).values.find(
      (a: Json) => a.canAnswerApproval,
    );
    expect(
      (await mia('POST', `${SD}/request/${key}/approval/${approval.id}`, { json: { decision: 'decline' } }))
        .status,
    ).to.equal(200);
    expect(await keys(`approvals = pendingApprovalBy("${miaId}")`)).to.not.include(key);
    expect(await keys(`approvals != pendingApprovalBy("${miaId}")`)).to.include(key);
    expect(await keys(`approvals = approver("${miaId}")`)).to.include(key);
    // The caller-relative functions and anything but a function on the field are refused (400).
    for (const jql of [
      'approvals = myPendingApproval()',
      `approvals = "${miaId}"`,
      'approvals != approved()',
    ]) {
      const res = await agent('POST', '/rest/api/3/search/jql', { json: { jql } });
      expect(res.status, jql).to.equal(400);
      expect((res.body as Json).errorMessages, jql).to.have.length(1);
    }
  });

  it('manages customers, organizations and desk membership', async () => {
    const created = await agent('POST', `${SD}/customer`, {
      json: { email: 'carol@partner.test', displayName: 'Carol Chen' },
    });
    expect(created.status).to.equal(201);
    const carol = created.body as Json;
    expect(carol.accountId).to.match(/^qm:/);
    expect(
      (
        await agent('POST', `${SD}/customer?strictConflictStatusCode=true`, {
          json: { email: 'carol@partner.test', displayName: 'C' },
        })
      ).status,
    ).to.equal(409);
    expect(
      (await agent('POST', `${SD}/customer`, { json: { email: 'carol@partner.test', displayName: 'C' } }))
        .status,
    ).to.equal(400);
    expect(
      (await agent('POST', `${SD}/servicedesk/1/customer`, { json: { accountIds: [carol.accountId] } }))
        .status,
    ).to.equal(204);
    expect(
      ((await agent('GET', `${SD}/servicedesk/1/customer`, { headers: EXP })).body as Json).values.map(
        (u: Json) => u.accountId,
      ),
    ).to.include(carol.accountId);
    const org = (await agent('POST', `${SD}/organization`, { json: { name: 'Partner Inc' } })).body as Json;
    expect((await agent('GET', `${SD}/organization/${org.id}`)).body).to.include({ name: 'Partner Inc' });
    expect(
      (await agent('POST', `${SD}/organization/${org.id}/user`, { json: { accountIds: [carol.accountId] } }))
        .status,
    ).to.equal(204);
    expect(((await agent('GET', `${SD}/organization/${org.id}/user`)).body as Json).size).to.equal(1);
    expect(
      (
        (await agent('GET', `${SD}/organization?accountId=${encodeURIComponent(carol.accountId)}`))
          .body as Json
      ).size,
    ).to.equal(1);
    expect(
      (
        await agent('DELETE', `${SD}/organization/${org.id}/user`, {
          json: { accountIds: [carol.accountId] },
        })
      ).status,
    ).to.equal(204);
    expect(
      (await agent('POST', `${SD}/servicedesk/2/organization`, { json: { organizationId: Number(org.id) } }))
        .status,
    ).to.equal(204);
    expect(
      ((await agent('GET', `${SD}/servicedesk/2/organization`)).body as Json).values.map((o: Json) => o.name),
    ).to.include('Partner Inc');
    expect(
      (
        await agent('DELETE', `${SD}/servicedesk/2/organization`, {
          json: { organizationId: Number(org.id) },
        })
      ).status,
    ).to.equal(204);
    expect((await agent('DELETE', `${SD}/organization/${org.id}`)).status).to.equal(204);
  });

  it('searches the knowledge base only with the experimental opt-in header', async () => {
    expect((await agent('GET', `${SD}/knowledgebase/article?query=vpn`)).status).to.equal(412);
    const all = (await agent('GET', `${SD}/knowledgebase/article?query=vpn`, { headers: EXP })).body as Json;
    expect(all.values[0].title).to.equal('Connect to the VPN');
    // content.iframeSrc is a link, not a documented operation: the article's body as HTML.
    const src = String(all.values[0].content.iframeSrc);
    expect(src.startsWith(`${emulator.url}/`)).to.equal(true);
    const basic = `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`;
    const view = await fetch(src, { headers: { authorization: basic } });
    expect(view.status).to.equal(200);
    expect(view.headers.get('content-type')).to.match(/^text\/html/);
    expect(await view.text()).to.include('<li>Open <strong>Settings › VPN</strong>.</li>');
    expect((await fetch(src)).status).to.equal(401);
    const hr = (
      await agent('GET', `${SD}/servicedesk/2/knowledgebase/article?query=policy`, { headers: EXP })
    ).body as Json;
    expect(hr.values.map((a: Json) => a.title)).to.have.members(['Vacation policy', 'Expense policy']);
  });

  it('answers 412 to every experimental operation it serves when the opt-in header is missing', async () => {
    const laptop = [...emulator.state.requests.values()].find((r) =>
      r.comments.some((c) => c.attachmentIds.length > 0),
    )!;
    const withFiles = laptop.comments.find((c) => c.attachmentIds.length > 0)!;
    // One call of each, as the servicedeskapi documents it ("Experimental methods").
    const calls: Record<string, string> = {
      'GET /rest/servicedeskapi/knowledgebase/article': `${SD}/knowledgebase/article?query=vpn`,
      'GET /rest/servicedeskapi/request/{issueIdOrKey}/comment/{commentId}/attachment': `${SD}/request/${laptop.key}/comment/${withFiles.id}/attachment`,
      'GET /rest/servicedeskapi/requesttype': `${SD}/requesttype`,
      'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/customer': `${SD}/servicedesk/1/customer`,
      'GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/knowledgebase/article': `${SD}/servicedesk/1/knowledgebase/article?query=vpn`,
    };
    expect(Object.keys(calls)).to.have.members(
      experimentalOperations().filter((op) => !NOT_EMULATED.has(op)),
    );
    for (const [op, path] of Object.entries(calls)) {
      expect((await agent('GET', path)).status, op).to.equal(412);
      expect((await agent('GET', path, { headers: EXP })).status, op).to.equal(200);
    }
  });

  it('gives accountType as Atlassian does: atlassian for licensed users (agents, the service account), customer for portal customers', async () => {
    const me = (await agent('GET', '/rest/api/3/myself')).body as Json;
    expect(me.accountType).to.equal('atlassian');
    const typeOf = async (email: string) => {
      const found = (await agent('GET', `/rest/api/3/user/search?query=${encodeURIComponent(email)}`))
        .body as Json[];
      const byId = (
        await agent('GET', `/rest/api/3/user?accountId=${encodeURIComponent(found[0]!.accountId)}`)
      ).body as Json;
      expect(byId.accountType, email).to.equal(found[0]!.accountType);
      return found[0]!.accountType as string;
    };
    expect(await typeOf('ian.it@acme.test')).to.equal('atlassian');
    expect(await typeOf('alice@acme.test')).to.equal('customer');
  });

  it('serves the Jira platform calls a portal needs and 410 on the removed /search', async () => {
    expect(((await agent('GET', '/rest/api/3/myself')).body as Json).emailAddress).to.equal(
      'portal-bot@acme.test',
    );
    const found = (await agent('GET', '/rest/api/3/user/search?query=alice@acme.test')).body as Json[];
    expect(found).to.have.length(1);
    expect(
      (
        (await agent('GET', `/rest/api/3/user?accountId=${encodeURIComponent(found[0]!.accountId)}`))
          .body as Json
      ).displayName,
    ).to.equal('Alice Anders');
    expect((await agent('GET', '/rest/api/3/user?accountId=nobody')).status).to.equal(404);
    const bob = ((await agent('GET', '/rest/api/3/user/search?query=bob@acme.test')).body as Json[])[0]!;
    const bulk = (
      await agent(
        'GET',
        `/rest/api/3/user/bulk?accountId=${encodeURIComponent(found[0]!.accountId)}&accountId=nobody&accountId=${encodeURIComponent(bob.accountId)}&maxResults=1`,
      )
    ).body as Json;
    expect(bulk.values.map((u: Json) => u.displayName)).to.deep.equal(['Alice Anders']);
    expect(bulk).to.include({ total: 2, isLast: false, startAt: 0 });
    expect((await agent('GET', '/rest/api/3/search?jql=project=IT')).status).to.equal(410);
    const page1 = (
      await agent('POST', '/rest/api/3/search/jql', {
        json: {
          jql: `reporter = "${found[0]!.accountId}" ORDER BY created DESC`,
          fields: ['summary', 'status'],
          maxResults: 3,
        },
      })
    ).body as Json;
    expect(page1.issues).to.have.length(3);
    expect(page1.isLast).to.equal(false);
    const page2 = (
      await agent('POST', '/rest/api/3/search/jql', {
        json: {
          jql: `reporter = "${found[0]!.accountId}"`,
          fields: ['summary'],
          maxResults: 100,
          nextPageToken: page1.nextPageToken,
        },
      })
    ).body as Json;
    expect(page2.isLast).to.equal(true);
    expect(
      (await agent('POST', '/rest/api/3/search/jql', { json: { jql: 'assignee = currentUser()' } })).status,
    ).to.equal(400);
  });

  it('refuses a search naming an issue key that does not exist, as Jira validates a query', async () => {
    const search = (jql: string) => agent('POST', '/rest/api/3/search/jql', { json: { jql } });
    const missing = await search('project = IT AND issuekey = "IT-99999"');
    expect(missing.status).to.equal(400);
    expect(missing.body).to.deep.equal({
      errorMessages: ["An issue with key 'IT-99999' does not exist for field 'issuekey'."],
      errors: {},
    });
    expect((await search('key in (IT-1, IT-99999)')).status).to.equal(400);
    const count = await agent('POST', '/rest/api/3/search/approximate-count', {
      json: { jql: 'issuekey = IT-99999' },
    });
    expect(count.status).to.equal(400);
    // An issue that exists is searched, whether or not the rest of the query matches it.
    const existing = [...emulator.state.requests.values()].find((r) => r.key.startsWith('IT-'))!;
    const found = await search(`issuekey = "${existing.key}" AND project = HR`);
    expect(found.status).to.equal(200);
    expect((found.body as Json).issues).to.deep.equal([]);
  });

  it('keeps a new request out of the search until indexed, unless reconcileIssues names it (at most 50)', async () => {
    emulator.state.searchIndex.hold();
    try {
      const created = (
        await agent('POST', `${SD}/request`, {
          json: {
            serviceDeskId: '1',
            requestTypeId: [...emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!
              .id,
            requestFieldValues: { summary: 'Not indexed yet' },
          },
        })
      ).body as Json;
      const search = (reconcileIssues?: unknown) =>
        agent('POST', '/rest/api/3/search/jql', {
          json: {
            jql: 'summary ~ "indexed"',
            fields: ['summary'],
            ...(reconcileIssues ? { reconcileIssues } : {}),
          },
        });
      expect(((await search()).body as Json).issues).to.deep.equal([]);
      const reconciled = (await search([Number(created.issueId)])).body as Json;
      expect(reconciled.issues.map((i: Json) => i.key)).to.deep.equal([created.issueKey]);
      // Reconciling selects nothing: a query that does not match it still does not find it.
      const other = await agent('POST', '/rest/api/3/search/jql', {
        json: { jql: 'summary ~ "toner"', reconcileIssues: [Number(created.issueId)] },
      });
      expect((other.body as Json).issues.map((i: Json) => i.id)).to.not.include(created.issueId);
      expect((await search(Array.from({ length: 51 }, (_, i) => i + 1))).status).to.equal(400);
    } finally {
      emulator.state.searchIndex.catchUp();
    }
  });

  it('finds a request changed since its index was held as it was, unless reconcileIssues names it', async () => {
    const request = [...emulator.state.requests.values()].find((r) => r.status === 'Waiting for support')!;
    emulator.state.searchIndex.hold();
    try {
      const comment = await agent('POST', `${SD}/request/${request.key}/comment`, {
        json: { body: 'A change after the index was held', public: true },
      });
      expect(comment.status).to.equal(201);
      const search = (reconcileIssues?: number[]) =>
        agent('POST', '/rest/api/3/search/jql', {
          json: {
            jql: `key = ${request.key}`,
            fields: ['updated'],
            ...(reconcileIssues ? { reconcileIssues } : {}),
          },
        }).then((res) => ((res.body as Json).issues as Json[])[0]?.fields.updated as string);
      const stale = await search();
      const current = await search([Number(request.id)]);
      expect(Date.parse(current), 'reconciled: the comment moved it').to.be.greaterThan(Date.parse(stale));
    } finally {
      emulator.state.searchIndex.catchUp();
    }
    // Caught up, every search finds it as it is.
    const caughtUp = await agent('POST', '/rest/api/3/search/jql', {
      json: { jql: `key = ${request.key}`, fields: ['updated'] },
    });
    expect(Date.parse(((caughtUp.body as Json).issues as Json[])[0]!.fields.updated)).to.equal(
      request.updated,
    );
  });

  it('lists the Organizations field and shares a request with an organization of its desk by editing it', async () => {
    const fields = (await agent('GET', '/rest/api/3/field')).body as Json[];
    const organizations = fields.find(
      (f) => f.schema?.custom === 'com.atlassian.servicedesk:sd-customer-organizations',
    )!;
    expect(organizations.name).to.equal('Organizations');
    // Every field of the site, the request types' own among them, with Jira's schema.
    const named = (name: string) => fields.find((f) => f.name === name)!;
    expect(named('Access from').schema).to.include({
      type: 'datetime',
      custom: 'com.atlassian.jira.plugin.system.customfieldtypes:datetime',
    });
    expect(fields.find((f) => f.id === 'duedate')!.schema).to.deep.equal({ type: 'date', system: 'duedate' });
    const request = [...emulator.state.requests.values()].find(
      (r) => r.serviceDeskId === '2' && r.organizationIds.length === 0,
    )!;
    const acme = [...emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
    const globex = [...emulator.state.organizations.values()].find((o) => o.name === 'Globex Partners')!;
    const edit = (client: typeof agent, value: unknown, field = organizations.id) =>
      client('PUT', `/rest/api/3/issue/${request.key}`, { json: { fields: { [field]: value } } });
    const count = async () =>
      (
        (
          await agent('POST', '/rest/api/3/search/approximate-count', {
            json: { jql: `organizations = ${acme.id} AND project = HR` },
          })
        ).body as Json
      ).count as number;
    const before = await count();
    expect((await edit(agent, [Number(acme.id)])).status).to.equal(204);
    expect(request.organizationIds).to.deep.equal([acme.id]);
    expect(await count()).to.equal(before + 1);
    // A search asked for the field answers it as Jira renders it in issue fields (ADR 0154).
    const found = (
      await agent('POST', '/rest/api/3/search/jql', {
        json: { jql: `issuekey = "${request.key}"`, fields: [organizations.id, 'updated'], maxResults: 1 },
      })
    ).body as Json;
    expect(found.issues[0].fields[organizations.id]).to.deep.equal([
      {
        id: Number(acme.id),
        name: 'Acme Corp',
        _links: { self: `${emulator.url}/rest/servicedeskapi/organization/${acme.id}` },
      },
    ]);
    // HR does not have Globex; another field is not editable here; a customer may not edit at all.
    expect((await edit(agent, [Number(globex.id)])).status).to.equal(400);
    expect((await edit(agent, 'x', 'summary')).status).to.equal(400);
    const bob = specClient({
      baseUrl: emulator.url,
      email: 'bob@acme.test',
      apiToken: 'bob-dev-token',
      seen,
    });
    const mine = [...emulator.state.requests.values()].find(
      (r) => r.reporterId === emulator.state.userByEmail('bob@acme.test')!.accountId,
    )!;
    expect(
      (await bob('PUT', `/rest/api/3/issue/${mine.key}`, { json: { fields: { [organizations.id]: [] } } }))
        .status,
    ).to.equal(403);
    expect(request.organizationIds).to.deep.equal([acme.id]);
  });

  it("adds and removes single organizations with the issue edit's update operations, as Jira applies them", async () => {
    const organizationsField = ((await agent('GET', '/rest/api/3/field')).body as Json[]).find(
      (f) => f.schema?.custom === 'com.atlassian.servicedesk:sd-customer-organizations',
    )!.id as string;
    const request = [...emulator.state.requests.values()].find(
      (r) => r.serviceDeskId === '1' && r.organizationIds.length === 0,
    )!;
    const id = (name: string) => [...emulator.state.organizations.values()].find((o) => o.name === name)!.id;
    const [acme, globex] = [id('Acme Corp'), id('Globex Partners')];
    const update = (operations: unknown[], fields?: Json) =>
      agent('PUT', `/rest/api/3/issue/${request.key}`, {
        json: { update: { [organizationsField]: operations }, ...(fields ? { fields } : {}) },
      });
    expect((await update([{ add: Number(acme) }])).status).to.equal(204);
    expect(request.organizationIds).to.deep.equal([acme]);
    // Each operation applies to the value held then: an add keeps what is there, adding twice is one.
    expect((await update([{ add: Number(globex) }, { add: Number(acme) }])).status).to.equal(204);
    expect(request.organizationIds).to.deep.equal([acme, globex]);
    expect((await update([{ remove: Number(acme) }])).status).to.equal(204);
    expect(request.organizationIds).to.deep.equal([globex]);
    expect((await update([{ set: [Number(acme)] }])).status).to.equal(204);
    expect(request.organizationIds).to.deep.equal([acme]);
    // Refused whole, changing nothing: an operation the field does not take, an organization not of
    // the desk, an id that is not one, and the field in both fields and update.
    for (const refused of [
      () => update([{ add: Number(globex) }, { edit: Number(globex) }]),
      () => update([{ add: 999_999 }]),
      () => update([{ add: 'Globex Partners' }]),
      () => update([{ add: Number(globex) }], { [organizationsField]: [] }),
    ])
      expect((await refused()).status).to.equal(400);
    expect(request.organizationIds).to.deep.equal([acme]);
  });

  it('answers 401 without valid Basic credentials', async () => {
    const stranger = specClient({
      baseUrl: emulator.url,
      email: 'portal-bot@acme.test',
      apiToken: 'wrong',
      seen,
    });
    const reply = await stranger('GET', `${SD}/servicedesk`);
    expect(reply.status).to.equal(401);
    expect((reply.body as Json).errorMessage).to.be.a('string');
  });

  it('serves attachment metadata, content and thumbnails, and answers 410 on the removed search API', async () => {
    const requests = (await agent('GET', `${SD}/request?requestOwnership=ALL_REQUESTS&limit=50`))
      .body as Json;
    let found: { key: string; id: string; image: boolean } | undefined;
    for (const request of requests.values as Json[]) {
      const attachments = (await agent('GET', `${SD}/request/${request.issueKey}/attachment`)).body as Json;
      const first = (attachments.values as Json[])[0];
      if (first) {
        found = {
          key: request.issueKey,
          id: String(first._links.content).split('/').pop()!,
          image: String(first.mimeType).startsWith('image/'),
        };
        break;
      }
    }
    expect(found, 'the default seed has a request with an attachment').to.not.equal(undefined);
    expect((await agent('GET', `${SD}/request/${found!.key}/attachment/${found!.id}`)).status).to.equal(200);
    expect(
      (await agent('GET', `/rest/api/3/attachment/content/${found!.id}?redirect=false`)).status,
    ).to.equal(200);
    const thumbnail = await agent('GET', `/rest/api/3/attachment/thumbnail/${found!.id}?redirect=false`);
    expect(thumbnail.status, 'thumbnails exist for images only').to.equal(found!.image ? 200 : 404);
    expect((await agent('POST', '/rest/api/3/search')).status).to.equal(410);
  });

  it('gives the files added with a comment (expand=attachment and its own resource), internal ones to agents only', async () => {
    const printer = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const key = printer.key;
    const comments = (await agent('GET', `${SD}/request/${key}/comment?expand=attachment`)).body as Json;
    const internal = comments.values.find((c: Json) => c.public === false && c.attachments.size > 0);
    const shared = comments.values.find((c: Json) => c.public === true && c.attachments.size > 0);
    expect(internal.attachments.values.map((a: Json) => a.filename)).to.deep.equal([
      'vendor-ticket-4471.txt',
    ]);
    expect(shared.attachments.values.map((a: Json) => a.filename)).to.deep.equal(['fuser-order.txt']);
    const plain = (await agent('GET', `${SD}/request/${key}/comment/${internal.id}`)).body as Json;
    expect(plain).to.not.have.property('attachments');
    const own = (
      await agent('GET', `${SD}/request/${key}/comment/${internal.id}/attachment`, { headers: EXP })
    ).body as Json;
    expect(own.values.map((a: Json) => a.filename)).to.deep.equal(['vendor-ticket-4471.txt']);

    const alice = specClient({
      baseUrl: emulator.url,
      email: 'alice@acme.test',
      apiToken: 'alice-dev-token',
      seen,
    });
    const files = (await alice('GET', `${SD}/request/${key}/attachment`)).body as Json;
    expect(files.values.map((a: Json) => a.filename)).to.include('fuser-order.txt');
    expect(files.values.map((a: Json) => a.filename)).to.not.include('vendor-ticket-4471.txt');
    expect(
      (await alice('GET', `${SD}/request/${key}/comment/${internal.id}/attachment`, { headers: EXP })).status,
    ).to.equal(404);
    const hiddenId = own.values[0]._links.content.split('/').pop();
    expect((await alice('GET', `${SD}/request/${key}/attachment/${hiddenId}`)).status).to.equal(404);
    expect((await alice('GET', `/rest/api/3/attachment/content/${hiddenId}?redirect=false`)).status).to.equal(
      404,
    );
    const mine = (
      await alice('GET', `${SD}/request/${key}/comment/${shared.id}/attachment`, { headers: EXP })
    ).body as Json;
    expect(mine.values.map((a: Json) => a.filename)).to.deep.equal(['fuser-order.txt']);
  });

  it("lists an issue's comments oldest or newest first (getComments), internal ones to agents only", async () => {
    const printer = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const path = `/rest/api/3/issue/${printer.key}/comment`;
    const oldest = (await agent('GET', `${path}?orderBy=created`)).body as Json;
    const newest = (await agent('GET', `${path}?orderBy=-created&startAt=0&maxResults=2`)).body as Json;
    expect(oldest.total).to.equal(printer.comments.length);
    expect(newest.comments.map((c: Json) => c.id)).to.deep.equal(
      oldest.comments
        .map((c: Json) => c.id)
        .reverse()
        .slice(0, 2),
    );
    expect(oldest.comments.some((c: Json) => c.jsdPublic === false)).to.equal(true);
    expect(oldest.comments[0].body.type).to.equal('doc');
    const alice = specClient({
      baseUrl: emulator.url,
      email: 'alice@acme.test',
      apiToken: 'alice-dev-token',
      seen,
    });
    const hers = (await alice('GET', path)).body as Json;
    expect(hers.comments.every((c: Json) => c.jsdPublic === true)).to.equal(true);
  });

  it('renders comment bodies as Atlassian does (renderedBody, and comment.renderedBody / comment.attachment on the request)', async () => {
    const printer = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const fuser = printer.attachments.find((a) => a.filename === 'fuser-order.txt')!;
    const detail = (
      await agent(
        'GET',
        `${SD}/request/${printer.key}?expand=comment,comment.attachment,comment.renderedBody,attachment`,
      )
    ).body as Json;
    const ordered = detail.comments.values.find((c: Json) => c.body.startsWith('We ordered'));
    expect(ordered.renderedBody.html).to.equal(
      `<p>We ordered a new fuser unit. <b>Delivery on Thursday</b>, order: <span class="nobr"><a href="${emulator.url}/secure/attachment/${fuser.id}/fuser-order.txt" title="fuser-order.txt attached to ${printer.key}">fuser-order.txt<sup><img class="rendericon" src="${emulator.url}/images/icons/link_attachment_7.gif" height="7" width="7" align="absmiddle" alt="" border="0"/></sup></a></span></p>`,
    );
    expect(ordered.attachments.values.map((a: Json) => a.filename)).to.deep.equal(['fuser-order.txt']);
    const plain = (await agent('GET', `${SD}/request/${printer.key}?expand=comment`)).body as Json;
    expect(plain.comments.values[0]).to.not.have.property('renderedBody');
    expect(plain.comments.values[0]).to.not.have.property('attachments');

    // Markup is escaped, paragraphs and line breaks kept, images embedded as thumbnails.
    const laptop = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
    const png = laptop.attachments.find((a) => a.filename === 'screen.png')!;
    const created = (
      await agent('POST', `${SD}/request/${laptop.key}/comment`, {
        json: {
          body: 'See <b>this</b>:\n!screen.png|thumbnail!\n\n_Thanks_ https://example.test/x',
          public: true,
        },
      })
    ).body as Json;
    const rendered = (
      await agent('GET', `${SD}/request/${laptop.key}/comment/${created.id}?expand=renderedBody`)
    ).body as Json;
    expect(rendered.renderedBody.html).to.equal(
      `<p>See &lt;b&gt;this&lt;/b&gt;:<br/>\n<span class="image-wrap" style=""><a id="${png.id}_thumb" href="${emulator.url}/secure/attachment/${png.id}/screen.png" title="screen.png" file-preview-type="image" file-preview-id="${png.id}" file-preview-title="screen.png"><img src="${emulator.url}/secure/thumbnail/${png.id}/screen.png" style="border: 0px solid black" /></a></span></p>\n\n<p><em>Thanks</em> <a href="https://example.test/x" class="external-link" target="_blank" rel="nofollow noopener">https://example.test/x</a></p>`,
    );
  });

  it('exercised every documented servicedeskapi operation except the ones the emulator leaves out on purpose', () => {
    const missing = documentedOperations('servicedeskapi').filter(
      (op) => !seen.has(op) && !NOT_EMULATED.has(op),
    );
    expect(missing).to.deep.equal([]);
    for (const op of NOT_EMULATED)
      expect(seen.has(op), `${op} is listed as not emulated but was used`).to.equal(false);
  });

  it('exercised every Jira platform operation it serves, each one documented by the platform spec', () => {
    const platform = documentedOperations('platform');
    for (const op of EMULATED_PLATFORM) {
      expect(platform, op).to.include(op);
      expect(seen.has(op), `${op} was never exercised`).to.equal(true);
    }
    expect(
      [...seen].filter((op) => op.includes(' /rest/api/3/') && !EMULATED_PLATFORM.has(op)),
    ).to.deep.equal([]);
  });
});

describe('Atlassian spec validator', () => {
  it('fails a response with a wrong field name', () => {
    const verdict = validateAgainstSpec({
      method: 'GET',
      path: '/rest/servicedeskapi/servicedesk/1',
      status: 200,
      responseBody: { id: '1', projectKEY: 'IT' },
    });
    expect(verdict.errors.join()).to.match(/additionalProperty.*projectKEY/);
  });
  it('fails a response with a wrong type', () => {
    const verdict = validateAgainstSpec({
      method: 'GET',
      path: '/rest/servicedeskapi/request/IT-1/notification',
      status: 200,
      responseBody: { subscribed: 'yes' },
    });
    expect(verdict.errors.join()).to.match(/must be boolean/);
  });
  it('fails an undocumented status, a bad request body and an undeclared query parameter', () => {
    expect(
      validateAgainstSpec({
        method: 'POST',
        path: '/rest/servicedeskapi/request',
        status: 404,
        requestBody: { serviceDeskID: '1' },
        responseBody: { errorMessage: 'x', i18nErrorMessage: { i18nKey: 'k', parameters: [] } },
      }).errors,
    ).to.have.length(2);
    expect(
      validateAgainstSpec({
        method: 'GET',
        path: '/rest/servicedeskapi/request?ownership=x',
        status: 200,
        responseBody: { size: 0, start: 0, limit: 50, isLastPage: true, values: [], _links: {} },
      }).errors.join(),
    ).to.match(/ownership/);
  });
  it('fails Jira platform exchanges that are off its spec: a wrong field, a wrong body, a missing parameter', () => {
    const user = { accountId: 'a1', accountType: 'customer', active: true, displayName: 'A' };
    expect(
      validateAgainstSpec({ method: 'GET', path: '/rest/api/3/myself', status: 200, responseBody: user })
        .errors,
    ).to.deep.equal([]);
    expect(
      validateAgainstSpec({
        method: 'GET',
        path: '/rest/api/3/myself',
        status: 200,
        responseBody: { ...user, accountID: 'a1' },
      }).errors.join(),
    ).to.match(/additionalProperty.*accountID/);
    const search = validateAgainstSpec({
      method: 'POST',
      path: '/rest/api/3/search/jql',
      status: 200,
      requestBody: { jqlQuery: 'project = IT' },
      responseBody: { issues: [{ id: '1', key: 'IT-1', fieldz: {} }], isLast: true },
    }).errors;
    expect(search.filter((e) => /^request body.*jqlQuery/.test(e))).to.have.length(1);
    expect(search.filter((e) => /^response body\/issues\/0.*fieldz/.test(e))).to.have.length(1);
    expect(
      validateAgainstSpec({ method: 'GET', path: '/rest/api/3/user/bulk', status: 400 }).errors.join(),
    ).to.match(/required query parameter "accountId"/);
    expect(
      validateAgainstSpec({
        method: 'GET',
        path: '/rest/api/3/user/bulk?accountId=a1',
        status: 200,
        responseBody: { values: [user], total: '1' },
      }).errors.join(),
    ).to.match(/total must be integer/);
    expect(
      validateAgainstSpec({
        method: 'GET',
        path: '/rest/api/3/user?accountId=a1',
        status: 404,
        responseBody: { message: 'nope' },
      }).errors.join(),
    ).to.match(/additionalProperty.*message/);
    expect(
      validateAgainstSpec({
        method: 'GET',
        path: '/rest/api/3/issue/IT-1/transitionz',
        status: 200,
      }).errors.join(),
    ).to.match(/no operation/);
  });
  it('fails a path parameter, an enum value or an expand the operation does not document', () => {
    const problems = (path: string) =>
      validateAgainstSpec({ method: 'GET', path, status: 404 }).errors.filter(
        (e) => !/error response/.test(e),
      );
    expect(problems('/rest/servicedeskapi/request/IT-1/attachment/10001')).to.deep.equal([]);
    expect(problems('/rest/servicedeskapi/request/IT-1/attachment/screen.png').join()).to.match(
      /path parameter "attachmentId" must be an integer/,
    );
    expect(problems('/rest/servicedeskapi/organization/acme/user').join()).to.match(/"organizationId"/);
    expect(problems('/rest/api/3/issue/IT-1/comment?orderBy=-created')).to.deep.equal([]);
    expect(problems('/rest/api/3/issue/IT-1/comment?orderBy=-updated').join()).to.match(
      /"orderBy" must be one of created, -created, \+created/,
    );
    expect(
      problems('/rest/servicedeskapi/request/IT-1?expand=participant,comment.renderedBody'),
    ).to.deep.equal([]);
    expect(problems('/rest/servicedeskapi/request/IT-1?expand=participant,participants').join()).to.match(
      /expand value "participants" is not documented/,
    );
    expect(
      problems('/rest/servicedeskapi/request/IT-1/comment?expand=renderedBody&expand=renderedBodies').join(),
    ).to.match(/expand value "renderedBodies"/);
  });
  it('fails a call that sent no body to an operation that requires one', () => {
    const transition = (requestBody?: unknown) =>
      validateAgainstSpec({
        method: 'POST',
        path: '/rest/servicedeskapi/request/IT-1/transition',
        status: 204,
        requestHeaders: { 'content-type': 'application/json' },
        responseHeaders: {},
        ...(requestBody === undefined ? {} : { requestBody }),
      }).errors;
    expect(transition({ id: '21' })).to.deep.equal([]);
    expect(transition().join()).to.match(/no request body sent to an operation that requires one/);
  });
  it('takes the links Atlassian hands out (article view, request type icon) for GET only', () => {
    const call = (method: string, path: string) => validateAgainstSpec({ method, path, status: 200 }).errors;
    expect(call('GET', '/rest/servicedeskapi/knowledgebase/article/view/30001')).to.deep.equal([]);
    expect(
      call('GET', '/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10501?size=48x48'),
    ).to.deep.equal([]);
    expect(call('POST', '/rest/servicedeskapi/knowledgebase/article/view/30001').join()).to.match(
      /no operation/,
    );
    expect(call('GET', '/rest/api/2/universal_avatar/view/type/project/avatar/10501').join()).to.match(
      /no operation/,
    );
  });
  it('fails a multipart upload sent without X-Atlassian-Token: no-check', () => {
    const upload = (requestHeaders: Record<string, string>) =>
      validateAgainstSpec({
        method: 'POST',
        path: '/rest/servicedeskapi/servicedesk/1/attachTemporaryFile',
        status: 201,
        requestHeaders,
        responseHeaders: {},
        responseBody: { temporaryAttachments: [{ temporaryAttachmentId: 'temp1', fileName: 'a.txt' }] },
      }).errors;
    expect(upload({ 'x-atlassian-token': 'no-check' })).to.deep.equal([]);
    expect(upload({}).join()).to.match(/without X-Atlassian-Token: no-check/);
    expect(upload({ 'x-atlassian-token': 'nocheck' }).join()).to.match(/X-Atlassian-Token/);
  });
  it("fails an error body that is not Atlassian's ErrorResponse", () => {
    expect(
      validateAgainstSpec({
        method: 'GET',
        path: '/rest/servicedeskapi/request/IT-1',
        status: 404,
        responseBody: { message: 'nope' },
      }).errors,
    ).to.not.be.empty;
  });
});
