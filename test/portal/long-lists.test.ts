// Lists Atlassian pages (servicedeskapi start/limit/isLastPage, at most 50 a page) that decide what a
// customer sees or may do: a request's participants, its approvals and its transitions. Each is read
// to its last page, however long, up to a bound past which the page fails closed and says so
// (ATLASSIAN_LIST_TOO_LONG); the status history, only shown, says when it is cut (ADR 0257).
import { expect } from 'chai';
import { renderWiki } from '../../common/wiki-render.js';
import type { Attachment, CustomerRequest } from '../../dev/jsm-emulator/state.js';
import * as portal from '../../testkit/portal-harness.js';

describe('portal: request lists longer than 20 pages (ADR 0257)', () => {
  let h: portal.Harness;
  let alice: portal.Browser;
  portal.useHarness(async (started) => {
    alice = await portal.signIn(started, 'alice@acme.test');
    h = started;
  });
  const { csrfOf, reasons } = portal;
  const guests = (count: number, prefix: string) => portal.addGuests(h, count, prefix);
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const accountOf = (email: string) => h.emulator.state.userByEmail(email)!.accountId;
  /** Runs `body` with the request's participants set to `ids`, then puts back those it had. */
  const withParticipants = async (r: CustomerRequest, ids: string[], body: () => Promise<void>) => {
    const kept = r.participantIds;
    r.participantIds = ids;
    try {
      await body();
    } finally {
      r.participantIds = kept;
    }
  };
  const participantPages = (from: number, key: string) =>
    h.exchanges
      .slice(from)
      .filter((e) => e.path.startsWith(`/rest/servicedeskapi/request/${key}/participant`));

  /**
   * The request's page is refused 502 ATLASSIAN_LIST_TOO_LONG, not "not found", after at most 205 of
   * the list's pages (10,000 items, five at a time after the first).
   */
  const expectTooLong = async (key: string, pagesOf: (from: number, key: string) => unknown[]) => {
    const from = h.logs.length;
    const exchanged = h.exchanges.length;
    const page = await alice.text(`/requests/${key}`);
    expect(page.status).to.equal(502);
    expect(reasons(h, from)).to.include('ATLASSIAN_LIST_TOO_LONG');
    expect(pagesOf(exchanged, key).length).to.be.at.most(205);
  };

  describe('participants', () => {
    it('opens a request for its 1,001st participant, reading the participant list to its last page', async () => {
      const wifi = request('Wi-Fi drops in meeting room Nile');
      await withParticipants(wifi, [...guests(1_000, 'p'), accountOf('alice@acme.test')], async () => {
        const from = h.exchanges.length;
        const page = await alice.text(`/requests/${wifi.key}`);
        expect(page.status, page.body).to.equal(200);
        // 1,001 at 50 a page: 21 pages, read five at a time after the first (a round may ask a few past the last).
        expect(participantPages(from, wifi.key).length).to.be.within(21, 25);
      });
    });

    it('lets its 1,001st participant leave the request', async () => {
      const wifi = request('Wi-Fi drops in meeting room Nile');
      const alicesId = accountOf('alice@acme.test');
      const many = [...guests(1_000, 'p'), alicesId];
      await withParticipants(wifi, many, async () => {
        const page = await alice.text(`/requests/${wifi.key}`);
        const res = await alice.post(`/requests/${wifi.key}/participants/remove`, {
          _csrf: csrfOf(page.body),
          accountId: alicesId,
        });
        expect(res.status).to.equal(303);
        expect(wifi.participantIds).to.not.include(alicesId);
      });
    });

    it('fails closed past 10,000 participants, saying so, never as "not found"', async () => {
      const wifi = request('Wi-Fi drops in meeting room Nile');
      await withParticipants(wifi, [...guests(10_000, 'q'), accountOf('alice@acme.test')], async () => {
        await expectTooLong(wifi.key, participantPages);
      });
    });
  });

  describe('approvals', () => {
    it('opens a request for the approver of its 1,001st approval', async () => {
      const standing = request('Standing desk converter for the support team');
      const kept = standing.approvals;
      const someone = guests(1, 'a')[0]!;
      standing.approvals = [
        ...Array.from({ length: 1_000 }, (_, i) => ({
          id: `9${String(i).padStart(5, '0')}`,
          name: `Earlier step ${i}`,
          approvers: [{ accountId: someone, decision: 'approved' as const }],
          finalDecision: 'approved' as const,
          created: kept[0]!.created,
          completed: kept[0]!.created,
        })),
        ...kept,
      ];
      try {
        const page = await alice.text(`/requests/${standing.key}`);
        expect(page.status, page.body.slice(0, 300)).to.equal(200);
      } finally {
        standing.approvals = kept;
      }
    });
  });

  describe('transitions', () => {
    it('offers and takes the 1,001st step the workflow offers from the request’s status', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      const { workflow } = h.emulator.state;
      const kept = [...workflow];
      workflow.unshift(
        ...Array.from({ length: 1_000 }, (_, i) => ({
          id: String(5000 + i),
          name: `Note step ${i}`,
          from: [printer.status],
          to: printer.status,
        })),
      );
      try {
        const page = await alice.text(`/requests/${printer.key}`);
        expect(page.status).to.equal(200);
        expect(page.body).to.include(`href="/requests/${printer.key}/transition/761"`);
        const confirm = await alice.text(`/requests/${printer.key}/transition/761`);
        expect(confirm.status).to.equal(200);
        const res = await alice.post(`/requests/${printer.key}/transition`, {
          transition: '761',
          _csrf: csrfOf(confirm.body),
        });
        expect(res.status).to.equal(303);
        expect(request('Printer on 3rd floor jams every morning').status).to.equal('Resolved');
      } finally {
        workflow.splice(0, workflow.length, ...kept);
      }
    });
  });

  describe('attachments and a comment’s files (ADR 0264)', () => {
    /** `count` files of the request's reporter, on no comment (the emulator's ids, above the seed's). */
    const files = (r: CustomerRequest, count: number, from: number): Attachment[] =>
      Array.from({ length: count }, (_, i) => ({
        id: String(from + i),
        filename: `photo-${from + i}.txt`,
        mimeType: 'text/plain',
        content: Buffer.from('a photo'),
        authorId: r.reporterId,
        created: r.created,
      }));
    /** Runs `body` with the request's files and comments as `change` leaves them, then puts them back. */
    const withFiles = async (r: CustomerRequest, change: () => void, body: () => Promise<void>) => {
      const [attachments, comments] = [[...r.attachments], [...r.comments]];
      change();
      try {
        await body();
      } finally {
        r.attachments = attachments;
        r.comments = comments;
      }
    };
    /** An agent's internal comment adding `added` to the request. */
    const internalComment = (r: CustomerRequest, added: Attachment[]) => {
      r.attachments.push(...added);
      r.comments.push({
        id: String(88_000 + r.comments.length),
        authorId: h.emulator.state.userByEmail('ian.it@acme.test')!.accountId,
        body: 'Internal note',
        public: false,
        created: Date.now(),
        attachmentIds: added.map((a) => a.id),
      });
    };
    const attachmentPages = (from: number, key: string) =>
      h.exchanges
        .slice(from)
        .filter((e) => new RegExp(`^/rest/servicedeskapi/request/${key}/attachment(\\?|$)`).test(e.path));

    it('escapes her reference to her own file’s name when an internal file of that name is past the 1,000th', async () => {
      // ADR 0260 leaves a name as typed when only files she may open have it; Jira resolves a name
      // against every file (the newest of that name), so an internal file not read made the name hers.
      const printer = request('Printer on 3rd floor jams every morning');
      const [internal] = files(printer, 1, 790_000);
      internal!.filename = 'fuser-order.txt';
      await withFiles(
        printer,
        () => {
          printer.attachments.push(...files(printer, 1_000, 700_000));
          internalComment(printer, [internal!]);
        },
        async () => {
          const written = printer.comments.length;
          const page = await alice.text(`/requests/${printer.key}`);
          expect(page.status).to.equal(200);
          const res = await alice.post(`/requests/${printer.key}/comment`, {
            _csrf: csrfOf(page.body),
            body: 'probe [^fuser-order.txt] *end*',
          });
          expect(res.status).to.equal(303);
          const html = renderWiki(
            printer.comments[written]!.body,
            h.emulator.state.wikiContext('https://acme.atlassian.net', printer),
          );
          expect(html, 'the internal file').to.not.include(`/secure/attachment/${internal!.id}/`);
          expect(html, 'the characters she typed').to.include('[^fuser-order.txt]');
        },
      );
    });

    it('offers her file past the 1,000th, reading the request’s files to their last page, once for a comment naming a file too (ADR 0274)', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      const late = files(printer, 1_001, 700_000).at(-1)!;
      await withFiles(
        printer,
        () => printer.attachments.push(...files(printer, 1_001, 700_000)),
        async () => {
          const from = h.exchanges.length;
          const page = await alice.text(`/requests/${printer.key}`);
          expect(page.status).to.equal(200);
          expect(page.body).to.include(late.filename);
          // 1,004 files at 50 a page: 21 pages, five at a time after the first.
          expect(attachmentPages(from, printer.key).length).to.be.within(21, 25);
          const file = await alice.fetch(`/requests/${printer.key}/attachment/${late.id}`);
          expect(file.status).to.equal(200);
          // Which names her text may use and which files she may open come from one read of the
          // list: it was read twice at once, a post naming a file costing twice the page's calls.
          const posted = h.exchanges.length;
          const res = await alice.post(`/requests/${printer.key}/comment`, {
            _csrf: csrfOf(page.body),
            body: `probe [^${late.filename}]`,
          });
          expect(res.status).to.equal(303);
          expect(attachmentPages(posted, printer.key).length).to.be.within(21, 25);
        },
      );
    });

    it('fails closed past 10,000 files, saying so, never as "not found"', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      await withFiles(
        printer,
        () => printer.attachments.push(...files(printer, 10_000, 700_000)),
        async () => {
          await expectTooLong(printer.key, attachmentPages);
        },
      );
    });

    for (const [what, multipart] of [
      ['a comment', false],
      ['a comment with a file', true],
    ] as const)
      it(`refuses ${what} naming a file past 10,000 files, writing nothing, never as "not found"`, async () => {
        // Which names her text may use is decided from every file of the request (ADR 0260): past
        // the bound the post is refused, not written with the names of a part (ADR 0264).
        const printer = request('Printer on 3rd floor jams every morning');
        const page = await alice.text(`/requests/${printer.key}`);
        const fields = {
          _csrf: csrfOf(page.body),
          _write: /name="_write" value="([^"]+)"/.exec(page.body)![1]!,
          body: 'probe [^fuser-order.txt]',
        };
        await withFiles(
          printer,
          () => printer.attachments.push(...files(printer, 10_000, 700_000)),
          async () => {
            const written = () => [printer.comments.length, printer.attachments.length];
            const before = written();
            const from = h.logs.length;
            const exchanged = h.exchanges.length;
            const res = await alice.fetch(
              `/requests/${printer.key}/comment`,
              portal.formPost(alice.base, fields, multipart),
            );
            expect(res.status).to.equal(502);
            expect(reasons(h, from)).to.include('ATLASSIAN_LIST_TOO_LONG');
            // One read of the list for the names her text may use (ADR 0274), and the page's that
            // shows the refusal: two, where it was three.
            expect(attachmentPages(exchanged, printer.key).length).to.be.at.most(2 * 205);
            expect(written(), 'comments and files').to.deep.equal(before);
          },
        );
      });

    it('offers the request’s own files when an internal comment added more than 1,000', async () => {
      // Files of an internal comment not all known: only the public comments' files were offered
      // (ADR 0225), so her file on no comment (one added with the request) was withheld.
      const printer = request('Printer on 3rd floor jams every morning');
      const [hers] = files(printer, 1, 790_000);
      await withFiles(
        printer,
        () => {
          printer.attachments.push(hers!);
          internalComment(printer, files(printer, 1_001, 700_000));
        },
        async () => {
          const file = await alice.fetch(`/requests/${printer.key}/attachment/${hers!.id}`);
          expect(file.status).to.equal(200);
          const hidden = await alice.fetch(`/requests/${printer.key}/attachment/701000`);
          expect(hidden.status).to.equal(404);
        },
      );
    });
  });

  describe('comments (shown, past what is read)', () => {
    /** Runs `body` with `count` more public comments by the reporter on the request, then takes them off. */
    const withComments = async (r: CustomerRequest, count: number, body: () => Promise<void>) => {
      const kept = [...r.comments];
      for (let i = 0; i < count; i++)
        r.comments.push({
          id: String(60_000 + i),
          authorId: r.reporterId,
          body: `Still jamming, day ${i}`,
          public: true,
          created: r.created + 60_000 * (i + 1),
          attachmentIds: [],
        });
      try {
        await body();
      } finally {
        r.comments = kept;
      }
    };

    it('shows the newest comments and says earlier ones are not shown when the comments are more than it reads', async () => {
      // As the native portal: the newest activity is what a customer comes back for. The list is read
      // from its end (500 comments at the emulator's 25 a page, 20 pages): days 600 to 1099.
      const printer = request('Printer on 3rd floor jams every morning');
      await withComments(printer, 1_100, async () => {
        const page = await alice.text(`/requests/${printer.key}`);
        expect(page.status).to.equal(200);
        expect(page.body).to.include('Still jamming, day 1099<');
        expect(page.body).to.include('Still jamming, day 600<').and.not.include('Still jamming, day 599<');
        expect(page.body).to.include('Earlier comments are not shown').and.not.include('Later comments');
        // The line stands where the comments read begin: before the oldest comment shown.
        const line = page.body.indexOf('Earlier comments are not shown');
        expect(line).to.be.below(page.body.indexOf('Still jamming, day 600<'));
      });
    });

    it('shows every comment, oldest first, when they are more than the request holds but not more than it reads', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      await withComments(printer, 120, async () => {
        const page = await alice.text(`/requests/${printer.key}`);
        expect(page.status).to.equal(200);
        const days = [...page.body.matchAll(/Still jamming, day (\d+)</g)].map((m) => Number(m[1]));
        expect(days).to.deep.equal(Array.from({ length: 120 }, (_, i) => i));
        expect(page.body).to.not.include('comments are not shown');
      });
    });

    /** Runs `body` with the servicedeskapi listing comments newest first: its spec promises no order. */
    const newestFirst = async (body: () => Promise<void>) => {
      h.emulator.state.commentOrder = 'newestFirst';
      try {
        await body();
      } finally {
        h.emulator.state.commentOrder = 'oldestFirst';
      }
    };

    it('shows the newest comments, the line before them, when the list it reads from is newest first (ADR 0384)', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      await newestFirst(() =>
        withComments(printer, 1_100, async () => {
          const page = await alice.text(`/requests/${printer.key}`);
          expect(page.status).to.equal(200);
          expect(page.body).to.include('Still jamming, day 1099<');
          expect(page.body).to.include('Still jamming, day 600<').and.not.include('Still jamming, day 599<');
          const line = page.body.indexOf('Earlier comments are not shown');
          expect(line).to.be.above(-1).and.below(page.body.indexOf('Still jamming, day 600<'));
        }),
      );
    });

    it('shows comments oldest first by when they were written, and in the order written at the same second, whatever order the list is in', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      await withComments(printer, 120, async () => {
        // Ten written within one second (an import, a bulk reply): Jira's ids, which grow, tell their order.
        const at = printer.comments.at(-1)!.created + 60_000;
        for (const c of printer.comments.slice(-10)) c.created = at;
        const days = (body: string) =>
          [...body.matchAll(/Still jamming, day (\d+)</g)].map((m) => Number(m[1]));
        const everyDay = Array.from({ length: 120 }, (_, i) => i);
        expect(days((await alice.text(`/requests/${printer.key}`)).body)).to.deep.equal(everyDay);
        await newestFirst(async () => {
          const page = await alice.text(`/requests/${printer.key}`);
          expect(days(page.body)).to.deep.equal(everyDay);
          expect(page.body).to.not.include('comments are not shown');
        });
      });
    });

    it('says nothing of unread comments when it reads them all', async () => {
      const page = await alice.text(`/requests/${request('Printer on 3rd floor jams every morning').key}`);
      expect(page.body).to.not.include('comments are not shown');
    });
  });

  describe('status history (shown, not deciding)', () => {
    it('shows every change it reads as a change and says older ones are not shown, past 1,000', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      const kept = printer.statusHistory;
      const raised = kept[0]!.date;
      printer.statusHistory = Array.from({ length: 1_050 }, (_, i) => ({
        status: i % 2 === 0 ? 'In progress' : 'Waiting for customer',
        date: raised + 60_000 * i,
      }));
      try {
        const page = await alice.text(`/requests/${printer.key}`);
        expect(page.status).to.equal(200);
        // The newest 1,000 are read (newest first, 20 pages): each is a change, none taken for the raise.
        expect(page.body.match(/Status changed to /g)?.length).to.equal(1_000);
        expect(page.body).to.include('Older status changes are not shown');
      } finally {
        printer.statusHistory = kept;
      }
    });

    it('says nothing of older changes when it reads them all', async () => {
      const page = await alice.text(`/requests/${request('Printer on 3rd floor jams every morning').key}`);
      expect(page.body).to.include('Status changed to ').and.not.include('Older status changes');
    });
  });
});
