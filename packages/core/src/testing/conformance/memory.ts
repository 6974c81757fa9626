import type { MemoryStoreCase } from './memory-harness.js';
import { memoryPrivacyCases } from './memory-privacy.js';
import { memoryRecordCases } from './memory-records.js';
import { memorySearchCases } from './memory-search.js';

export type { MemoryStoreCase, MemoryStoreFactory, MemoryStoreHarness } from './memory-harness.js';

/**
 * The memory store conformance suite: every MemoryStore implementation must pass every case. An
 * adapter's test runs `for (const c of memoryStoreConformance) it(c.name, () => c.run(factory))`.
 */
export const memoryStoreConformance: MemoryStoreCase[] = [
  ...memoryRecordCases,
  ...memorySearchCases,
  ...memoryPrivacyCases,
];
