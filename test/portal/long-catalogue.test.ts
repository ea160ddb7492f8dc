// The catalogue's lists (the site's service desks, a desk's request types) are paged like every
// servicedeskapi list (at most 50 a page). A cut one decides no visibility (what is not read is
// neither offered nor listed), but a customer must find a desk and a type past the 1,000th: each is
// read to its last page, up to 10,000 (ADR 0264).
import { expect } from 'chai';
import * as portal from '../../testkit/portal-harness.js';

describe('portal: a catalogue longer than 20 pages (ADR 0264)', () => {
  describe('a help center of three desks on a site that lists 1,000 others first', () => {
    let alice: portal.Browser;
    portal.useHarness(
      async (h) => {
        const { serviceDesks } = h.emulator.state;
        const seeded = [...serviceDesks.values()];
        serviceDesks.clear();
        for (let i = 0; i < 1_000; i++) {
          const id = String(5_000 + i);
          serviceDesks.set(id, {
            ...seeded[0]!,
            id,
            projectId: String(50_000 + i),
            projectKey: `OTHER${i}`,
            projectName: `Another company ${i}`,
            organizationIds: [],
            customerIds: [],
            groups: [],
          });
        }
        for (const desk of seeded) serviceDesks.set(desk.id, desk);
        alice = await portal.signIn(h, 'alice@acme.test');
      },
      { atlassian: { serviceDeskIds: ['1', '2', '3'] }, catalogueTtlMs: 0 },
    );

    it('offers her the help center’s desks and lists her requests on them', async () => {
      const home = await alice.text('/');
      expect(home.status).to.equal(200);
      expect(home.body).to.include('href="/desk/1"');
      expect((await alice.text('/desk/1')).status).to.equal(200);
      expect((await alice.text('/requests?status=all')).body).to.include(
        'Printer on 3rd floor jams every morning',
      );
    });
  });

  describe('a desk with 1,000 agents-only request types and 1,000 empty groups before those customers use', () => {
    let alice: portal.Browser;
    portal.useHarness(
      async (h) => {
        const { requestTypes } = h.emulator.state;
        const shown = [...requestTypes.values()].find((t) => t.name === 'Get IT help')!;
        for (let i = 0; i < 1_000; i++) {
          const id = String(20_000 + i);
          requestTypes.set(id, { ...shown, id, name: `Agents only ${i}`, groupIds: [] });
        }
        requestTypes.set('21000', { ...shown, id: '21000', name: 'Order a laptop dock' });
        // 1,000 groups (with no type, so not shown) before one that holds a type.
        const { groups } = h.emulator.state.serviceDesks.get('1')!;
        for (let i = 0; i < 1_000; i++) groups.push({ id: String(30_000 + i), name: `Unused group ${i}` });
        groups.push({ id: '31000', name: 'Docking stations' });
        requestTypes.set('21001', { ...shown, id: '21001', name: 'Return a dock', groupIds: ['31000'] });
        alice = await portal.signIn(h, 'alice@acme.test');
      },
      { catalogueTtlMs: 0 },
    );

    it('lists the type and opens its form', async () => {
      expect((await alice.text('/desk/1')).body).to.include('Order a laptop dock');
      const form = await alice.text('/desk/1/create/21000');
      expect(form.status).to.equal(200);
      expect(form.body).to.include('Order a laptop dock');
    });

    it('shows a group past the desk’s 1,000th with its type', async () => {
      const desk = (await alice.text('/desk/1?group=31000')).body;
      expect(desk)
        .to.include('href="/desk/1?group&#61;31000" aria-current="page"')
        .and.include('Return a dock');
      expect(desk).to.match(/<h2 id="types-h">Docking stations<\/h2>/);
    });
  });
});
