import { EventEmitter, once } from 'node:events';
import { type FlowStore, MemoryFlowStore } from '../common/flowstore/index.js';
import { type HoldingStore, holdingStore } from './holding-store.js';
import { type LocalRedis, startLocalRedis } from './local-redis.js';
import { connectedFlowStore } from './redis.js';

/**
 * What two IdP logouts racing for one session at two broker replicas need (ADR 0373, 0382): the stores
 * both replicas share, on Redis and in memory, and a count of the broker's LogoutRequests the portal
 * acted on, so that a second propagation shows.
 */

/**
 * The broker's store and the portal's, which holds the portal's commands a test chooses and counts the
 * broker's LogoutRequests the portal acted on; with what closes them.
 */
export interface RaceStores {
  broker: FlowStore;
  portal: HoldingStore;
  portalLogouts: CountedPortalLogouts;
  close(): Promise<void>;
}

/** Each on a redis-server of its own test's. */
async function onRedis(): Promise<RaceStores> {
  const redis: LocalRedis = await startLocalRedis();
  const broker = await connectedFlowStore('acme', redis.url);
  return {
    broker,
    ...portalSide(await connectedFlowStore('portal', redis.url)),
    close: async () => {
      // The portal's harness closes its own store.
      await broker.close();
      await redis.stop();
    },
  };
}

async function inMemory(): Promise<RaceStores> {
  return { broker: new MemoryFlowStore(), ...portalSide(new MemoryFlowStore()), close: async () => {} };
}

function portalSide(store: FlowStore): Pick<RaceStores, 'portal' | 'portalLogouts'> {
  const portalLogouts = countingPortalLogouts(store);
  return { portal: holdingStore(portalLogouts.store), portalLogouts };
}

export const RACE_STORES = [
  ['a real Redis', onRedis],
  ['a memory store', inMemory],
] as const;

/** The portal's store, counting the broker's LogoutRequests it acted on. */
export interface CountedPortalLogouts {
  store: FlowStore;
  /** How many so far. */
  count(): number;
  /** Settles at the next one. */
  next(): Promise<unknown>;
}

/**
 * `store` counting the portal's marks of the LogoutRequests it acted on: it marks a request's ID
 * (`saml-message` keys) used once its logout is done, never before (ADR 0164).
 */
function countingPortalLogouts(store: FlowStore): CountedPortalLogouts {
  let marked = 0;
  const marks = new EventEmitter();
  const counted = new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (typeof value !== 'function') return value;
      if (name !== 'put') return value.bind(target);
      return (key: string, ...rest: unknown[]) => {
        if (key.startsWith('saml-message')) {
          marked += 1;
          marks.emit('mark');
        }
        return value.apply(target, [key, ...rest]);
      };
    },
  });
  return { store: counted, count: () => marked, next: () => once(marks, 'mark') };
}

/**
 * Holds the first logout's exchange at the portal once the portal ended its session, before it marks
 * the request's ID used: the broker session is not ended yet when a second logout comes.
 */
export function holdingFirstPortalLogout(portal: HoldingStore): { reached: Promise<void>; release(): void } {
  let first = true;
  return portal.hold((command, key) => {
    const match = first && command === 'put' && key.startsWith('saml-message');
    if (match) first = false;
    return match;
  });
}
