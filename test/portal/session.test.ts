import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { parseCookies, serializeCookie } from '../../common/http/cookies.js';
import { cookiePolicy } from '../../portal/cookies.js';
import { csrfMatches, SessionStore } from '../../portal/session.js';

const customer = {
  accountId: 'qm:alice',
  displayName: 'Alice',
  organizationIds: ['1'],
  serviceDeskIds: ['1'],
};

describe('portal sessions', () => {
  const store = new MemoryFlowStore();
  const sessions = new SessionStore(store, { idleSeconds: 60, absoluteSeconds: 300 }, 'key material');
  after(() => store.close());

  it('keeps a session, its forms and a sign-in under way made under the key held as next during a swap, not after (ADR 0298)', async () => {
    const timeouts = { idleSeconds: 60, absoluteSeconds: 300 };
    const beforeSwap = new SessionStore(store, timeouts, 'old key');
    const swapped = new SessionStore(store, timeouts, ['new key', 'old key']);
    const oldKeyDropped = new SessionStore(store, timeouts, 'new key');
    const made = await beforeSwap.create({
      customer,
      isAdmin: false,
      subject: beforeSwap.sealSubject({ nameId: 'n' }),
    });
    const login = await beforeSwap.startLogin({ requestId: '_r', returnPath: '/' }, 60);
    const during = (await swapped.get(made.id))!;
    expect(during.customer.displayName).to.equal('Alice');
    expect(swapped.openSubject(during.subject).nameId).to.equal('n');
    // A form shown before the swap is accepted; pages now show the new key's token, accepted too.
    expect(csrfMatches(during, made.csrf)).to.equal(true);
    expect(during.csrf).to.not.equal(made.csrf);
    expect(csrfMatches(during, during.csrf)).to.equal(true);
    expect(await swapped.takeLogin(login)).to.deep.equal({ requestId: '_r', returnPath: '/' });
    // The runbook's last patch drops the old key: what was sealed under it ends (a leaked key is revoked).
    expect(await oldKeyDropped.get(made.id)).to.equal(undefined);
  });

  it('signs customers in past a memory store full of idled-out sessions: the oldest SessionIndex keys make room (ADR 0357)', async () => {
    // A session's record lives for its idle timeout, its SessionIndex key (for the broker's logout)
    // for its whole lifetime: 20,000 sign-ins within one lifetime filled a memory store, and every
    // later sign-in was FLOW_STORE_FULL however few customers were still active.
    let now = Date.now();
    const small = new MemoryFlowStore({ maxEntries: 4, now: () => now });
    const timeouts = { idleSeconds: 60, absoluteSeconds: 300 };
    const portal = new SessionStore(small, timeouts, 'key material');
    try {
      const signIn = (i: number) =>
        portal.create({ customer, isAdmin: false, subject: '', sessionIndex: `_index${i}` }, now);
      await signIn(1);
      await signIn(2);
      now += 61_000; // both idled out; their SessionIndex keys live on
      const third = await signIn(3);
      const fourth = await signIn(4);
      expect(small.evictions.get(''), 'SessionIndex keys evicted').to.equal(2);
      expect((await portal.get(third.id, now))?.customer.accountId).to.equal('qm:alice');
      expect((await portal.get(fourth.id, now))?.customer.accountId).to.equal('qm:alice');
      // Live sessions' records are never evicted: once only records are left, the next sign-in is
      // refused as before, and every customer signed in stays so.
      const fifth = await signIn(5); // its record and index take the indexes of 3 and 4
      const refused = await signIn(6).then(
        () => 'stored',
        (e: { code?: string }) => e.code,
      );
      expect(refused).to.equal('FLOW_STORE_FULL');
      for (const session of [third, fourth, fifth])
        expect((await portal.get(session.id, now))?.customer.accountId).to.equal('qm:alice');
    } finally {
      await small.close();
    }
  });

  it('remembers the newest 50 requests a session raised, for 10 minutes, ids only, and forgets them at sign-out', async () => {
    const long = new SessionStore(store, { idleSeconds: 3600, absoluteSeconds: 7200 }, 'key material');
    const t0 = Date.now();
    const s = await long.create({ customer, isAdmin: false, subject: '' }, t0);
    const other = await long.create({ customer, isAdmin: false, subject: '' }, t0);
    for (let i = 1; i <= 51; i++) await long.rememberWrite(s, String(10_000 + i), t0 + i);
    // Not an issue id (a key, text): never kept, never sent to Jira.
    await long.rememberWrite(s, 'IT-1', t0 + 52);
    const ids = (await long.get(s.id, t0 + 100))!.recentIssueIds;
    expect(ids).to.have.length(50);
    expect(ids[0]).to.equal('10051');
    expect(ids).to.not.include('10001');
    expect((await long.get(other.id, t0 + 100))!.recentIssueIds).to.deep.equal([]);
    const writesKey = `portal:session-writes:${createHash('sha256').update(s.id).digest('base64url')}`;
    expect(await store.get(writesKey)).to.not.include('Alice');
    expect((await long.get(s.id, t0 + 600_051))!.recentIssueIds).to.deep.equal([]);
    await long.rememberWrite(s, '20001', t0 + 600_100);
    await long.destroy(s.id);
    expect(await store.get(writesKey)).to.equal(undefined);
  });

  it('ends a session left idle longer than the idle timeout', async () => {
    const t0 = Date.now();
    const s = await sessions.create(
      { customer, isAdmin: false, subject: sessions.sealSubject({ nameId: 'n' }) },
      t0,
    );
    expect(await sessions.get(s.id, t0 + 59_000)).to.not.equal(undefined);
    const fresh = await sessions.create({ customer, isAdmin: false, subject: '' }, t0);
    expect(await sessions.get(fresh.id, t0 + 61_000)).to.equal(undefined);
  });

  it('ends a session kept before desk access was recorded, so the next sign-in learns the desks', async () => {
    const { serviceDeskIds: _, ...older } = customer;
    const s = await sessions.create({ customer: older as typeof customer, isAdmin: false, subject: '' });
    expect(await sessions.get(s.id)).to.equal(undefined);
    const current = await sessions.create({ customer, isAdmin: false, subject: '' });
    expect((await sessions.get(current.id))?.customer.serviceDeskIds).to.deep.equal(['1']);
  });

  it('ends a session at the absolute timeout however active it is', async () => {
    const t0 = Date.now();
    const s = await sessions.create({ customer, isAdmin: false, subject: '' }, t0);
    for (let t = t0; t < t0 + 300_000; t += 50_000)
      expect(await sessions.get(s.id, t), `at +${t - t0}`).to.not.equal(undefined);
    expect(await sessions.get(s.id, t0 + 300_000)).to.equal(undefined);
  });

  it('issues a different random id and CSRF token for every session', async () => {
    const a = await sessions.create({ customer, isAdmin: false, subject: '' });
    const b = await sessions.create({ customer, isAdmin: false, subject: '' });
    expect(a.id).to.not.equal(b.id);
    expect(a.csrf).to.not.equal(b.csrf);
    expect(csrfMatches(a, a.csrf)).to.equal(true);
    expect(csrfMatches(a, b.csrf)).to.equal(false);
    expect(csrfMatches(a, undefined)).to.equal(false);
  });

  it('ignores a cookie value that is not one of its ids', async () => {
    expect(await sessions.get('../../etc/passwd')).to.equal(undefined);
  });

  it('keeps the NameID for logout only encrypted, and refuses a tampered one', () => {
    const sealed = sessions.sealSubject({ nameId: 'alice@acme.test', nameIdFormat: 'email' });
    // The whole address, looked for in the value and in its bytes (so a mere encoding fails too). A
    // part of it, as 'alice' once was, can turn up by chance in random base64url (1 run in ~10 million).
    expect(sealed).to.not.include('alice@acme.test');
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).to.not.include('alice@acme.test');
    expect(sessions.openSubject(sealed)).to.deep.equal({ nameId: 'alice@acme.test', nameIdFormat: 'email' });
    // Flip one bit in each part (IV, tag, ciphertext): a changed base64url character can decode to
    // the same bytes (or be the same character), so the tampering works on the bytes themselves.
    const bytes = Buffer.from(sealed, 'base64url');
    for (const at of [0, 12, 28, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(
        () => sessions.openSubject(tampered.toString('base64url')),
        `bit flipped at byte ${at}`,
      ).to.throw();
    }
  });

  it("keeps the display name only encrypted in the store, and ends a session whose name is not (an older one's)", async () => {
    const named = { ...customer, displayName: 'Zephyrine Quillbottom' };
    const s = await sessions.create({ customer: named, isAdmin: false, subject: '' });
    const key = `portal:session:${createHash('sha256').update(s.id).digest('base64url')}`;
    const raw = (await store.get(key))!;
    expect(raw).to.include('qm:alice').and.not.include('Zephyrine');
    expect((await sessions.get(s.id))?.customer.displayName).to.equal('Zephyrine Quillbottom');
    await store.put(key, raw.replace(/"displayName":"[^"]*"/, '"displayName":"Zephyrine Quillbottom"'), 60);
    expect(await sessions.get(s.id)).to.equal(undefined);
    expect(await store.get(key)).to.equal(undefined);
  });

  it('keeps no CSRF token in the store, the same on every page, and drops one an older session kept in the clear', async () => {
    const t0 = Date.now();
    const s = await sessions.create({ customer, isAdmin: false, subject: '' }, t0);
    const key = `portal:session:${createHash('sha256').update(s.id).digest('base64url')}`;
    expect(await store.get(key)).to.not.include(s.csrf);
    expect((await sessions.get(s.id, t0 + 1_000))?.csrf, 'the same on every page').to.equal(s.csrf);
    // As the previous release kept it: the token beside the rest, in the clear.
    const clear = 'Q'.repeat(43);
    const raw = (await store.get(key))!;
    await store.put(key, raw.replace(/^\{/, `{"csrf":"${clear}",`), 60);
    const older = await sessions.get(s.id, t0 + 31_000);
    expect(older?.csrf, 'its token is the keyed one').to.equal(s.csrf);
    expect(csrfMatches(older!, clear)).to.equal(false);
    expect(await store.get(key), 'written again without it').to.not.include(clear);
  });

  it('does not bring back a session signed out while a request of it was being served', async () => {
    // A page of the session (another tab, or a thief with its cookie) reads it, the customer signs
    // out, then the page refreshes the idle time it read: that write must not recreate the session.
    const racing = new SignOutDuringRead();
    const raced = new SessionStore(racing, { idleSeconds: 60, absoluteSeconds: 300 }, 'key material');
    const t0 = Date.now();
    const s = await raced.create({ customer, isAdmin: false, subject: '' }, t0);
    racing.whileReading = () => raced.destroy(s.id);
    expect(await raced.get(s.id, t0 + 31_000), 'the request that read it first is served').to.not.equal(
      undefined,
    );
    expect(await raced.get(s.id, t0 + 32_000), 'signed out').to.equal(undefined);
    expect(racing.size).to.equal(0);
    await racing.close();
  });

  it('consumes a login flow once', async () => {
    const id = await sessions.startLogin({ requestId: '_r', returnPath: '/' }, 60);
    expect(await sessions.takeLogin(id)).to.deep.equal({ requestId: '_r', returnPath: '/' });
    expect(await sessions.takeLogin(id)).to.equal(undefined);
  });

  it('keeps a login flow only encrypted, and takes none kept in the clear (an older one) or altered', async () => {
    const flow = { requestId: '_r', returnPath: '/requests?q=Zephyrine' };
    const id = await sessions.startLogin(flow, 60);
    const key = `portal:login:${createHash('sha256').update(id).digest('base64url')}`;
    const sealed = (await store.get(key))!;
    expect(sealed).to.not.include('Zephyrine').and.not.include('returnPath');
    await store.put(key, JSON.stringify(flow), 60);
    expect(await sessions.takeLogin(id), 'in the clear').to.equal(undefined);
    // One character of the authentication tag (bytes 12-28, characters 16-37) changed.
    const altered = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    await store.put(key, altered, 60);
    expect(await sessions.takeLogin(id), 'altered').to.equal(undefined);
  });
});

/** A store that runs `whileReading` once, after a read and before it returns (a concurrent request). */
class SignOutDuringRead extends MemoryFlowStore {
  whileReading: (() => Promise<void>) | undefined;
  override async get(key: string): Promise<string | undefined> {
    const value = await super.get(key);
    const meanwhile = this.whileReading;
    this.whileReading = undefined;
    await meanwhile?.();
    return value;
  }
}

describe('portal cookies', () => {
  it('uses __Host- names with Secure over https', () => {
    const policy = cookiePolicy('https://help.acme.example');
    expect(policy.session).to.equal('__Host-jsmsso_session');
    expect(serializeCookie(policy, policy.session, 'v', { sameSite: 'Lax' })).to.equal(
      '__Host-jsmsso_session=v; Path=/; HttpOnly; Secure; SameSite=Lax',
    );
    expect(serializeCookie(policy, policy.login, 'v', { sameSite: 'None', maxAgeSeconds: 600 })).to.equal(
      '__Host-jsmsso_login=v; Path=/; HttpOnly; Secure; SameSite=None; Max-Age=600',
    );
  });
  it('drops Secure and the prefix only on loopback http', () => {
    const policy = cookiePolicy('http://127.0.0.1');
    expect(serializeCookie(policy, policy.session, 'v', { sameSite: 'Lax' })).to.equal(
      'jsmsso_session=v; Path=/; HttpOnly; SameSite=Lax',
    );
  });
  it('names every cookie with the port of a URL at a port not its scheme’s default, every attribute kept (ADR 0369)', () => {
    const policy = cookiePolicy('https://help.acme.example:8443/desk');
    expect(policy).to.deep.equal({
      secure: true,
      session: '__Host-jsmsso_session-8443',
      login: '__Host-jsmsso_login-8443',
      locale: '__Host-jsmsso_locale-8443',
      timeZone: '__Host-jsmsso_tz-8443',
    });
    expect(serializeCookie(policy, policy.session, 'v', { sameSite: 'Lax' })).to.equal(
      '__Host-jsmsso_session-8443=v; Path=/; HttpOnly; Secure; SameSite=Lax',
    );
    expect(cookiePolicy('http://127.0.0.1:8080').session).to.equal('jsmsso_session-8080');
  });
  it('keeps the names of a URL at its scheme’s default port, written or not', () => {
    for (const url of ['https://help.acme.example', 'https://help.acme.example:443', 'http://127.0.0.1:80'])
      expect(cookiePolicy(url).session, url).to.equal(
        url.startsWith('https') ? '__Host-jsmsso_session' : 'jsmsso_session',
      );
  });
  it('reads the first of duplicated cookies', () => {
    expect(parseCookies('a=1; a=2; b=3').get('a')).to.equal('1');
  });
});
