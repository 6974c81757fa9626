import { BatonError } from '../errors.js';
import type { JournalEntry, JournalOpenOptions, JournalRecord, JournalWriter, RunJournal } from './types.js';

interface StoredRun {
  entries: JournalEntry[];
  /** Bumped by every open: a writer holding an older epoch has been fenced off. */
  epoch: number;
  touched: number;
}

/**
 * Journals in this process's memory: the embedded default for tests and single-process runs that want
 * replay and once-only tools without any infrastructure. Records are copied through JSON on the way in,
 * as they would be by any store that serializes, so nothing the run mutates later changes its history.
 */
export function memoryJournal(): RunJournal {
  const runs = new Map<string, StoredRun>();
  let clock = 0;
  return {
    async open(runId: string, writer: string, options: JournalOpenOptions = {}): Promise<JournalWriter> {
      checkLastSeq(runId, runs.get(runId)?.entries.length ?? 0, options);
      let run = runs.get(runId);
      if (!run) {
        run = { entries: [], epoch: 0, touched: 0 };
        runs.set(runId, run);
      }
      const stored = run;
      const epoch = ++stored.epoch;
      const existing = stored.entries.slice();
      const append = async (record: JournalRecord): Promise<JournalEntry> => {
        if (stored.epoch !== epoch) throw fenced(runId);
        const entry: JournalEntry = {
          runId,
          seq: stored.entries.length + 1,
          record: JSON.parse(JSON.stringify(record)) as JournalRecord,
        };
        stored.entries.push(entry);
        stored.touched = ++clock;
        return entry;
      };
      if (existing.length > 0) await append({ type: 'run.opened', at: Date.now(), writer });
      const appendMany = async (records: readonly JournalRecord[]): Promise<JournalEntry[]> => {
        const entries: JournalEntry[] = [];
        for (const record of records) entries.push(await append(record));
        return entries;
      };
      return { runId, existing, append, appendMany };
    },
    async read(runId: string): Promise<JournalEntry[]> {
      return (runs.get(runId)?.entries ?? []).map(
        (entry) => JSON.parse(JSON.stringify(entry)) as JournalEntry,
      );
    },
    async runs(options = {}): Promise<string[]> {
      return [...runs.entries()]
        .filter(([, run]) => run.entries.length > 0)
        .sort(([, a], [, b]) => b.touched - a.touched)
        .slice(0, options.limit ?? 100)
        .map(([runId]) => runId);
    },
  };
}

/**
 * A conditional open (`ifLastSeq`) of a run that moved on since it was read, or a `fresh` open of a run
 * with records: refused, nobody fenced.
 */
export function checkLastSeq(runId: string, lastSeq: number, options: JournalOpenOptions | undefined): void {
  if (options?.fresh && lastSeq !== 0) {
    throw new BatonError('JOURNAL_CONFLICT', `Run ${runId} was opened as new but has ${lastSeq} records`, {
      details: { runId, lastSeq, expected: 0 },
      hint: 'A run id was reused; give the run a new id or resume it instead',
    });
  }
  if (options?.ifLastSeq === undefined || options.ifLastSeq === lastSeq) return;
  throw new BatonError(
    'JOURNAL_CONFLICT',
    `The journal of run ${runId} moved on since it was read (record ${lastSeq}, not ${options.ifLastSeq})`,
    {
      details: { runId, lastSeq, expected: options.ifLastSeq },
      hint: 'Another process took the run over first; read the run instead of taking it over',
    },
  );
}

export function fenced(runId: string): BatonError {
  return new BatonError('JOURNAL_CONFLICT', `Another writer took over the journal of run ${runId}`, {
    details: { runId },
    hint: 'The run is being resumed elsewhere; this process must stop writing it',
  });
}
