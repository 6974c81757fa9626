import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fdatasync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  openSync,
  readFileSync,
  write,
} from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { BatonError } from '../errors.js';
import { checkRunId, decodeJournalEntry, encodeJournalEntry, invalidEntry, isRunId } from './codec.js';
import { errorCode, type FileLockOptions, withFileLock } from './file-lock.js';
import { checkLastSeq, fenced } from './memory.js';
import type { JournalEntry, JournalOpenOptions, JournalRecord, JournalWriter, RunJournal } from './types.js';

export interface FileJournalOptions {
  /** The directory holding one `<runId>.jsonl` per run (created when missing). */
  dir: string;
  /** Runs not written for this long are deleted when the journal is opened (default 30 days). */
  retentionMs?: number;
  /** How long an open or an append waits for another process's hold on the run (default 10 s). */
  lockWaitMs?: number;
}

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

export const DEFAULT_JOURNAL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Leftovers of a crash between writing a temporary file and renaming it are swept after this long. */
const LEFTOVER_MS = 10 * 60 * 1000;

const writerFileSchema = z.object({
  epoch: z.number().int().nonnegative(),
  writer: z.string(),
  pid: z.number().int(),
  at: z.number(),
});

interface RunFiles {
  data: string;
  /** The current writer's epoch: every open bumps it, every append checks it under the lock. */
  writer: string;
  lock: string;
}

interface WriterState {
  epoch: number;
  count: number;
  /** Bytes of the data file after our last append: anything else means someone else wrote it. */
  size: number;
  fenced: boolean;
}

/**
 * Run journals as JSON-lines files, one per run: the no-NATS default, shared by every process on one
 * machine. One writer per run across processes: `open` bumps the run's epoch (fencing earlier writers),
 * and every append checks the epoch and writes its line under a per-run lock file. An append resolves once
 * its line is on disk (fdatasync).
 */
export function fileJournal(options: FileJournalOptions): RunJournal {
  const dir = resolve(options.dir);
  const retentionMs = options.retentionMs ?? DEFAULT_JOURNAL_RETENTION_MS;
  if (!(retentionMs > 0)) throw new BatonError('CONFIG_INVALID', 'fileJournal: retentionMs must be positive');
  const lock: FileLockOptions = { waitMs: options.lockWaitMs ?? 10_000, staleMs: 30_000 };
  const ready = prepare(dir, retentionMs, lock);
  ready.catch(() => undefined);
  const files = (runId: string): RunFiles => ({
    data: join(dir, `${runId}.jsonl`),
    writer: join(dir, `${runId}.writer`),
    lock: join(dir, `${runId}.lock`),
  });

  return {
    async open(runId: string, writer: string, options: JournalOpenOptions = {}): Promise<JournalWriter> {
      checkRunId('fileJournal.open', runId);
      await ready;
      const paths = files(runId);
      const { state, existing } = await withFileLock(paths.lock, lock, async () => {
        // Read before taking over (nothing can append while we hold the lock): a conditional open of a
        // run that moved on is refused before the epoch changes, so it fences no one.
        const read = await readRun(paths.data, runId, true);
        checkLastSeq(runId, read.entries.length, options);
        const epoch = readEpoch(paths.writer) + 1;
        await replaceFile(paths.writer, JSON.stringify({ epoch, writer, pid: process.pid, at: Date.now() }));
        const state: WriterState = { epoch, count: read.entries.length, size: read.size, fenced: false };
        if (read.entries.length > 0) {
          await appendLocked(paths, runId, state, [{ type: 'run.opened', at: Date.now(), writer }]);
        }
        return { state, existing: read.entries };
      });
      return {
        runId,
        existing,
        async append(record: JournalRecord): Promise<JournalEntry> {
          if (state.fenced) throw fenced(runId);
          const [entry] = await withFileLock(paths.lock, lock, () =>
            appendLocked(paths, runId, state, [record]),
          );
          return entry as JournalEntry;
        },
        // Several lines, one write and one fdatasync: the sync is most of an append's cost.
        appendMany(records: readonly JournalRecord[]): Promise<JournalEntry[]> {
          if (state.fenced) return Promise.reject(fenced(runId));
          return withFileLock(paths.lock, lock, () => appendLocked(paths, runId, state, records));
        },
      };
    },
    async read(runId: string): Promise<JournalEntry[]> {
      checkRunId('fileJournal.read', runId);
      await ready;
      return (await readRun(files(runId).data, runId, false)).entries;
    },
    async runs(options = {}): Promise<string[]> {
      await ready;
      const found: { runId: string; mtime: bigint }[] = [];
      for (const name of await listDir(dir)) {
        const runId = runIdOf(name);
        if (!runId) continue;
        const info = await stat(join(dir, name), { bigint: true }).catch(() => undefined);
        if (info && info.size > 0n) found.push({ runId, mtime: info.mtimeNs });
      }
      found.sort((a, b) => (a.mtime === b.mtime ? 0 : a.mtime > b.mtime ? -1 : 1));
      return found.slice(0, options.limit ?? 100).map((run) => run.runId);
    },
  };
}

async function appendLocked(
  paths: RunFiles,
  runId: string,
  state: WriterState,
  records: readonly JournalRecord[],
): Promise<JournalEntry[]> {
  if (readEpoch(paths.writer) !== state.epoch) {
    state.fenced = true;
    throw fenced(runId);
  }
  // One line per record, as a reader expects; written together.
  const encoded = records.map((record, index) =>
    encodeJournalEntry({ runId, seq: state.count + 1 + index, record }),
  );
  const line = Buffer.from(encoded.map(({ text }) => `${text}\n`).join(''), 'utf8');
  // Metadata calls are synchronous (microseconds, and we hold the run's lock: see file-lock.ts); the
  // write and the fdatasync, which touch the disk, go through the thread pool.
  let fd: number;
  try {
    fd = openSync(paths.data, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  } catch (error) {
    throw unavailable(paths.data, error);
  }
  try {
    const { size } = fstatSync(fd);
    if (size !== state.size) {
      state.fenced = true;
      throw invalidEntry(
        `${paths.data} byte ${state.size}`,
        `the file changed outside its writer (${size} bytes, expected ${state.size})`,
      );
    }
    for (let written = 0; written < line.length; ) {
      written += (await writeAsync(fd, line, written, line.length - written)).bytesWritten;
    }
    // Kernel file times tick every few milliseconds; an explicit fine-grained time keeps `runs()` in order.
    const now = (performance.timeOrigin + performance.now()) / 1000;
    futimesSync(fd, now, now);
    await fdatasyncAsync(fd);
  } catch (error) {
    if (error instanceof BatonError) throw error;
    // We hold the lock: cut a partial line off so this writer (or the next) can append cleanly.
    try {
      ftruncateSync(fd, state.size);
    } catch {
      // the size check of the next append reports it
    }
    throw unavailable(paths.data, error);
  } finally {
    closeSync(fd);
  }
  // A new file's directory entry is only durable once the directory itself is synced.
  if (state.size === 0) await syncDir(paths.data);
  state.count += encoded.length;
  state.size += line.length;
  return encoded.map(({ entry }) => entry);
}

/**
 * A run's entries. Bytes after the last newline are an append still being written (or cut short by a
 * crash): not yet a record. Under the lock (`repair`) no append can be in flight, so such a tail was left
 * by a dead writer whose append never resolved, and it is cut off before anything is appended after it.
 */
async function readRun(
  path: string,
  runId: string,
  repair: boolean,
): Promise<{ entries: JournalEntry[]; size: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { entries: [], size: 0 };
    throw unavailable(path, error);
  }
  const size = bytes.lastIndexOf(0x0a) + 1;
  if (repair && size < bytes.length) {
    await truncate(path, size).catch((error: unknown) => {
      throw unavailable(path, error);
    });
  }
  const lines = bytes.subarray(0, size).toString('utf8').split('\n');
  lines.pop();
  const entries = lines.map((line, index) =>
    decodeJournalEntry(line, `${path} line ${index + 1}`, { runId, seq: index + 1 }),
  );
  return { entries, size };
}

function readEpoch(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw unavailable(path, error);
  }
  try {
    const parsed = writerFileSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.epoch;
  } catch {
    // reported below
  }
  throw new BatonError('JOURNAL_INVALID', `The writer file ${path} is invalid`, {
    details: { path },
    hint: 'Delete it to let the next open start a new epoch (no writer may be running)',
  });
}

/**
 * Replaces a file whole: write a temporary file, then rename over (atomic on POSIX), so a crash leaves the
 * old content or the new, never half. Not fsynced: the epoch only fences live processes, and a power
 * loss ends every one of them.
 */
async function replaceFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('base64url')}.tmp`;
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw unavailable(path, error);
  }
}

async function syncDir(path: string): Promise<void> {
  const dir = await open(resolve(path, '..'), constants.O_RDONLY).catch(() => undefined);
  if (!dir) return;
  // Some file systems refuse fsync on a directory; the data itself is already synced.
  await dir.sync().catch(() => undefined);
  await dir.close().catch(() => undefined);
}

/** Creates the directory and deletes runs past their retention (and leftovers of crashed renames). */
async function prepare(dir: string, retentionMs: number, lock: FileLockOptions): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw unavailable(dir, error);
  }
  const now = Date.now();
  for (const name of await listDir(dir)) {
    const path = join(dir, name);
    if (name.endsWith('.tmp') || name.endsWith('.stale')) {
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > LEFTOVER_MS) await unlink(path).catch(() => undefined);
      continue;
    }
    if (name.endsWith('.writer')) {
      // A run opened but never written has only its writer file: swept once it is as old as a run would be.
      const info = await stat(path).catch(() => undefined);
      const data = join(dir, `${name.slice(0, -'.writer'.length)}.jsonl`);
      if (info && now - info.mtimeMs > retentionMs && !(await stat(data).catch(() => undefined))) {
        await unlink(path).catch(() => undefined);
      }
      continue;
    }
    const runId = runIdOf(name);
    if (!runId) continue;
    const info = await stat(path).catch(() => undefined);
    if (!info || now - info.mtimeMs <= retentionMs) continue;
    // Under the run's lock, so a resume racing the sweep either finishes first or finds nothing.
    await withFileLock(join(dir, `${runId}.lock`), { ...lock, waitMs: 100 }, async () => {
      const again = await stat(path).catch(() => undefined);
      if (!again || Date.now() - again.mtimeMs <= retentionMs) return;
      await unlink(path).catch(() => undefined);
      await unlink(join(dir, `${runId}.writer`)).catch(() => undefined);
    }).catch(() => undefined);
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw unavailable(dir, error);
  }
}

function runIdOf(name: string): string | undefined {
  if (!name.endsWith('.jsonl')) return undefined;
  const runId = name.slice(0, -'.jsonl'.length);
  return isRunId(runId) ? runId : undefined;
}

function unavailable(path: string, error: unknown): BatonError {
  return new BatonError(
    'JOURNAL_UNAVAILABLE',
    `Cannot use the journal file ${path}: ${(error as Error).message}`,
    {
      cause: error,
      details: { path },
    },
  );
}
