import type { FlowStore } from '../common/flowstore/index.js';

/**
 * A flow store that can hold chosen commands at a point a test controls: a fake for interleavings
 * real parts cannot produce on demand (a logout arriving between two steps of a sign-in). Every
 * command goes to the real store; while a hold is set, those it matches wait until it is released.
 */
export interface HoldingStore {
  store: FlowStore;
  /** Holds each command `matches` (its name and first key) until `release`; `reached` once one is held. */
  hold(matches: (command: string, key: string) => boolean): { reached: Promise<void>; release(): void };
}

/** The commands that may be held; anything else the real store has (a pool's `view`) passes as it is. */
const COMMANDS = new Set<string>([
  'put',
  'putIfAbsent',
  'putInFirstFree',
  'get',
  'take',
  'takeLeaving',
  'delete',
  'deleteHolding',
] satisfies Array<keyof FlowStore>);

export function holdingStore(real: FlowStore): HoldingStore {
  let matching: ((command: string, key: string) => boolean) | undefined;
  let gate = Promise.resolve();
  let reached = () => {};
  const store = new Proxy(real, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      // The real store's own members (private fields) need it, not the proxy, as `this`.
      if (!COMMANDS.has(String(name))) return value.bind(target);
      return async (...args: unknown[]) => {
        const first = args[0];
        const key = Array.isArray(first) ? String(first[0]) : String(first);
        if (matching?.(String(name), key)) {
          reached();
          await gate;
        }
        return value.apply(target, args);
      };
    },
  });
  return {
    store,
    hold(matches) {
      matching = matches;
      let open = () => {};
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const held = new Promise<void>((resolve) => {
        reached = resolve;
      });
      return {
        reached: held,
        release() {
          matching = undefined;
          open();
        },
      };
    },
  };
}
