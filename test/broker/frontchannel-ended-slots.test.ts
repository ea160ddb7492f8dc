import { expect } from 'chai';
import { BrokerState, FRONTCHANNEL_ENDED_SLOTS, type LoginSession } from '../../broker/flows.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';

/**
 * The record a front-channel logout leaves for a sign-in racing it (ADR 0170), kept in a fixed number
 * of slots per IdP because anyone may send one with any sid (ADR 0248).
 */
describe('broker: front-channel logout records stay within their slots and still end a racing sign-in', () => {
  const session: LoginSession = { idp: 'corporate' };

  it('ends a sign-in saved after the logout of its IdP session; another sid ends nothing', async () => {
    const store = new MemoryFlowStore();
    const state = new BrokerState(store, 60, 600);
    await state.markIdpSessionEndedUnsigned('corporate', 'sid:ended');
    await state.saveSession('index-1', session);
    await state.saveSession('index-2', session);
    expect(
      await state.endIfIdpSessionEnded('index-2', 'corporate', { session: 'sid:live', person: 'sub:alice' }),
    ).to.equal(false);
    expect(await store.get('session:index-2')).not.to.equal(undefined);
    expect(
      await state.endIfIdpSessionEnded('index-1', 'corporate', { session: 'sid:ended', person: 'sub:alice' }),
    ).to.equal(true);
    expect(await store.get('session:index-1')).to.equal(undefined);
    // Another IdP's record of the same sid is not this IdP's.
    expect(
      await state.endIfIdpSessionEnded('index-2', 'partner', { session: 'sid:ended', person: 'sub:alice' }),
    ).to.equal(false);
  });

  it('keeps at most FRONTCHANNEL_ENDED_SLOTS records per IdP, whatever number of sids is sent', async () => {
    const store = new MemoryFlowStore();
    const state = new BrokerState(store, 60, 600);
    for (let i = 0; i < 5_000; i++) await state.markIdpSessionEndedUnsigned('corporate', `sid:made-up-${i}`);
    expect(store.size).to.equal(FRONTCHANNEL_ENDED_SLOTS);
    // The latest of a slot is still seen.
    await state.saveSession('index', session);
    expect(
      await state.endIfIdpSessionEnded('index', 'corporate', {
        session: 'sid:made-up-4999',
        person: 'sub:alice',
      }),
    ).to.equal(true);
  });
});
