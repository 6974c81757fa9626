export { type ApprovalsCase, approvalsConformance } from './approvals.js';
export { type AuditCase, auditConformance } from './audit.js';
export { type CacheStoreCase, type CacheStoreSetup, cacheStoreConformance } from './cache.js';
export { type JournalCase, journalConformance } from './journal.js';
export {
  type MemoryStoreCase,
  type MemoryStoreFactory,
  type MemoryStoreHarness,
  memoryStoreConformance,
} from './memory.js';
