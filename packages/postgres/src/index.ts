export { type PostgresMemoryStoreOptions, postgresMemoryStore } from './open.js';
export { PostgresMemoryStore } from './store.js';
