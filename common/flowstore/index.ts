export {
  type FlowStore,
  FlowStoreTenantFullError,
  FlowStoreUnavailableError,
  jsonValue,
  type WriteOptions,
} from './flow-store.js';
export {
  DEFAULT_MEMORY_STORE_MAX_ENTRIES,
  FlowStoreFullError,
  MemoryFlowStore,
  POOL_MEMORY_STORE_SHARES,
} from './memory-store.js';
export { parseRedisAddress, type RedisAddress } from './redis-address.js';
export { RedisFlowStore } from './redis-store.js';
