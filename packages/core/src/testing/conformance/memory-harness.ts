import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BatonError, type BatonErrorCode } from '../../errors.js';
import type { MemoryNamespace, MemoryRecord, MemoryStore, MemorySubject } from '../../memory/store.js';

/** A store opened for one conformance case, with a way to look behind it. */
export interface MemoryStoreHarness {
  store: MemoryStore;
  /**
   * Reads the backend directly — not through `store` — and describes everything left of the subject:
   * records, earlier versions, index and vector entries (a key, a row id, a document id per entry). An
   * empty array means the subject is erased. The opt-out marker itself is not residue.
   */
  residue(subject: MemorySubject): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * What an adapter's test hands the suite. `open` may return a store on storage shared with earlier
 * opens (a bucket, a schema): every case writes under its own random tenant.
 */
export interface MemoryStoreFactory {
  name: string;
  open(): Promise<MemoryStoreHarness>;
  /** True when `search` blends in vector similarity for `embedding`s; the vector case runs only then. */
  vectors?: boolean;
}

/** One case of the memory store conformance suite: every MemoryStore implementation must pass them all. */
export interface MemoryStoreCase {
  name: string;
  run(factory: MemoryStoreFactory): Promise<void>;
}

export const tenant = () => `t-${randomBytes(6).toString('hex')}`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withStore(
  factory: MemoryStoreFactory,
  body: (harness: MemoryStoreHarness) => Promise<void>,
): Promise<void> {
  const harness = await factory.open();
  try {
    await body(harness);
  } finally {
    await harness.close();
  }
}

export async function rejectsWith(work: Promise<unknown>, code: BatonErrorCode, what: string): Promise<void> {
  await assert.rejects(
    work,
    (error: unknown) => {
      assert.ok(BatonError.is(error), `${what}: expected a BatonError, got ${String(error)}`);
      assert.equal(error.code, code, `${what}: ${error.message}`);
      return true;
    },
    what,
  );
}

export const keysOf = (records: readonly MemoryRecord[]) => records.map((record) => record.key);

export const scoped = (ns: MemoryNamespace, scope: string): MemoryNamespace => ({ ...ns, scope });
