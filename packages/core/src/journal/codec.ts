import { z } from 'zod';
import { BatonError } from '../errors.js';
import {
  JOURNAL_VERSION,
  type JournalEntry,
  type JournalRecord,
  journalEntrySchema,
  journalRecordSchema,
} from './types.js';

/**
 * Several consecutive records of one run stored as one message (a writer that had several queued sends
 * them together: one round trip instead of one each). `seq` is the first record's.
 */
export const journalBatchSchema = z.object({
  v: z.literal(JOURNAL_VERSION),
  runId: z.string().min(1),
  seq: z.number().int().positive(),
  records: z.array(journalRecordSchema).min(2),
});

/** The stored form of consecutive records from `firstSeq`: one entry as usual, several as a batch. */
export function encodeJournalEntries(
  runId: string,
  firstSeq: number,
  records: readonly JournalRecord[],
): { text: string; entries: JournalEntry[] } {
  if (records.length === 1) {
    const { text, entry } = encodeJournalEntry({ runId, seq: firstSeq, record: records[0] as JournalRecord });
    return { text, entries: [entry] };
  }
  const value = { v: JOURNAL_VERSION, runId, seq: firstSeq, records };
  const parsed = journalBatchSchema.safeParse(value);
  if (!parsed.success) {
    throw new BatonError(
      'INPUT_INVALID',
      `Records ${firstSeq}–${firstSeq + records.length - 1} of run ${runId} cannot be journaled: ${z.prettifyError(parsed.error)}`,
      { details: { runId, seq: firstSeq } },
    );
  }
  return {
    text: JSON.stringify(value),
    entries: parsed.data.records.map((record, index) => ({ runId, seq: firstSeq + index, record })),
  };
}

/** The entries of one stored message or line, single or batched, validated (see decodeJournalEntry). */
export function decodeJournalEntries(
  text: string,
  where: string,
  expect: { runId: string; seq?: number },
): JournalEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidEntry(where, `not JSON (${(error as Error).message})`);
  }
  if (typeof json === 'object' && json !== null && 'records' in json) {
    const parsed = journalBatchSchema.safeParse(json);
    if (!parsed.success) throw invalidEntry(where, z.prettifyError(parsed.error));
    const batch = parsed.data;
    if (batch.runId !== expect.runId) throw invalidEntry(where, `it belongs to run ${batch.runId}`);
    if (expect.seq !== undefined && batch.seq !== expect.seq) {
      throw invalidEntry(where, `its sequence is ${batch.seq}, expected ${expect.seq}`);
    }
    return batch.records.map((record, index) => ({ runId: batch.runId, seq: batch.seq + index, record }));
  }
  return [decodeJournalEntry(text, where, expect)];
}

/** Run ids name files and subject tokens, so one rule serves every store: no dots, slashes or wildcards. */
const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID.test(value);
}

/** Throws INPUT_INVALID unless `runId` can name a journal file, a subject token and a KV key segment. */
export function checkRunId(where: string, runId: unknown): string {
  if (!isRunId(runId)) {
    throw new BatonError('INPUT_INVALID', `${where}: a run id must be 1–128 letters, digits, "_" or "-"`, {
      details: { runId: typeof runId === 'string' ? runId.slice(0, 200) : typeof runId },
    });
  }
  return runId;
}

/**
 * The stored form of one entry (a JSON line, a message body). It is read back through the schema before
 * it is written, so a record no reader would accept (a NaN, a missing field) fails here, in the writer,
 * instead of poisoning the journal for every later resume.
 */
export function encodeJournalEntry(entry: JournalEntry): { text: string; entry: JournalEntry } {
  const value = { v: JOURNAL_VERSION, runId: entry.runId, seq: entry.seq, record: entry.record };
  // Checked as an object (a NaN, a missing field fails here); the free-form parts (inputs, tool data)
  // are `unknown` to the schema, so this costs little next to the JSON text written once below.
  const parsed = journalEntrySchema.safeParse(value);
  if (!parsed.success) {
    throw new BatonError(
      'INPUT_INVALID',
      `Record ${entry.seq} of run ${entry.runId} cannot be journaled: ${z.prettifyError(parsed.error)}`,
      { details: { runId: entry.runId, seq: entry.seq, type: entry.record.type } },
    );
  }
  return { text: JSON.stringify(value), entry: stripVersion(parsed.data) };
}

/**
 * One stored entry, validated. `where` names the place for a person ("<file> line 3", "stream X seq 9");
 * `expect` pins the run and position the entry must have, so a line moved or copied by hand is caught.
 */
export function decodeJournalEntry(
  text: string,
  where: string,
  expect: { runId: string; seq?: number },
): JournalEntry {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidEntry(where, `not JSON (${(error as Error).message})`);
  }
  const parsed = journalEntrySchema.safeParse(json);
  if (!parsed.success) throw invalidEntry(where, z.prettifyError(parsed.error));
  const entry = parsed.data;
  if (entry.runId !== expect.runId) throw invalidEntry(where, `it belongs to run ${entry.runId}`);
  if (expect.seq !== undefined && entry.seq !== expect.seq) {
    throw invalidEntry(where, `its sequence is ${entry.seq}, expected ${expect.seq}`);
  }
  return stripVersion(entry);
}

function stripVersion(entry: z.infer<typeof journalEntrySchema>): JournalEntry {
  return { runId: entry.runId, seq: entry.seq, record: entry.record };
}

export function invalidEntry(where: string, why: string): BatonError {
  return new BatonError('JOURNAL_INVALID', `Journal entry at ${where} is invalid: ${why}`, {
    details: { where },
    hint: 'The journal was corrupted or edited by hand; restore it from a backup or start a new run',
  });
}
