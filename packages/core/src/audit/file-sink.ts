import {
  closeSync,
  constants,
  fdatasync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  write,
} from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BatonError } from '../errors.js';
import { errorCode, type FileLockOptions, withFileLock } from '../journal/file-lock.js';
import {
  auditConflict,
  decodeAuditEntry,
  encodeAuditEntry,
  parseAuditText,
  sameTail,
  tailOf,
} from './codec.js';
import type { AuditEntry, AuditSink, AuditTail } from './types.js';

export interface FileAuditSinkOptions {
  /** The JSON-lines file (created with its directory when missing). */
  path: string;
  /** How long an append waits for another process's hold on the file (default 10 s). */
  lockWaitMs?: number;
}

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
/** The end of the file is read backwards in steps this big to find the last line. */
const CHUNK = 64 * 1024;

/** What this sink last knew of the file: the bytes of its complete lines, and the tail they end with. */
interface Seen {
  size: number;
  tail: AuditTail | undefined;
}

/**
 * The audit log as one JSON-lines file: a record per line, and heads in the same file as `{"head": ...}`
 * lines. One file rather than a sidecar because a head is written right after the record it signs, so the
 * file alone says what was signed when; a copy or a backup is one file, never a pair that can drift apart;
 * and a crash between a record and its head leaves nothing to reconcile. (What a sidecar would add —
 * surviving a cut of the main file — needs a head kept on another system anyway: `onHead`, `latestHead`.)
 *
 * Appends from every process on the machine go one at a time under a lock file; each resolves once its
 * line is on disk (fdatasync). Bytes after the last newline are an append cut short by a crash, never
 * acknowledged: readers ignore them and the next append removes them.
 */
export function fileAuditSink(options: FileAuditSinkOptions): AuditSink {
  const path = resolve(options.path);
  const lock: FileLockOptions = { waitMs: options.lockWaitMs ?? 10_000, staleMs: 30_000 };
  let seen: Seen | undefined;
  let directory: Promise<void> | undefined;

  const appendLocked = async (entry: AuditEntry, after: AuditTail | undefined): Promise<void> => {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644);
    } catch (error) {
      throw unavailable(path, error);
    }
    try {
      const size = fstatSync(fd).size;
      if (seen?.size !== size) {
        const end = lastLine(fd, size);
        // We hold the lock, so no append is in flight: a partial line was left by a writer that died.
        if (end.complete < size) ftruncateSync(fd, end.complete);
        seen = { size: end.complete, tail: end.line === undefined ? undefined : tailOfLine(path, end.line) };
      }
      if (!sameTail(seen.tail, after)) throw auditConflict(path, seen.tail, after);
      const line = Buffer.from(`${encodeAuditEntry(entry)}\n`, 'utf8');
      const before = seen.size;
      try {
        for (let written = 0; written < line.length; ) {
          written += (await writeAsync(fd, line, written, line.length - written)).bytesWritten;
        }
        await fdatasyncAsync(fd);
      } catch (error) {
        seen = undefined;
        try {
          ftruncateSync(fd, before);
        } catch {
          // the next append finds the partial line and cuts it
        }
        throw unavailable(path, error);
      }
      // A new file's directory entry is only durable once the directory itself is synced.
      if (before === 0) await syncDirectory(path);
      seen = { size: before + line.length, tail: tailOf(entry) };
    } finally {
      closeSync(fd);
    }
  };

  return {
    async tail() {
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw unavailable(path, error);
      }
      try {
        const end = lastLine(fd, fstatSync(fd).size);
        return end.line === undefined ? undefined : tailOfLine(path, end.line);
      } finally {
        closeSync(fd);
      }
    },
    async append(entry, after) {
      directory ??= mkdir(dirname(path), { recursive: true }).then(() => undefined);
      try {
        await directory;
      } catch (error) {
        directory = undefined;
        throw unavailable(path, error);
      }
      try {
        await withFileLock(`${path}.lock`, lock, () => appendLocked(entry, after));
      } catch (error) {
        // The lock is shared with the journal and speaks its language; callers of this sink expect ours.
        if (BatonError.is(error, 'JOURNAL_UNAVAILABLE')) throw unavailable(path, error);
        throw error;
      }
    },
    async readRaw() {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return [];
        throw unavailable(path, error);
      }
      const text = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1).toString('utf8');
      const lines = text.split('\n');
      lines.pop();
      return lines.map(parseAuditText);
    },
    async close() {},
  };
}

function tailOfLine(path: string, line: string): AuditTail {
  return tailOf(decodeAuditEntry(parseAuditText(line), `${path} (last line)`));
}

/**
 * The last complete line of the first `size` bytes, and where complete lines end, read backwards from the
 * end so a long log costs one small read, not a full scan.
 */
function lastLine(fd: number, size: number): { complete: number; line: string | undefined } {
  let position = size;
  let buffer = Buffer.alloc(0);
  let complete = -1;
  while (position > 0) {
    const length = Math.min(CHUNK, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    for (let read = 0; read < length; ) {
      const got = readSync(fd, chunk, read, length - read, position + read);
      if (got === 0) break;
      read += got;
    }
    buffer = Buffer.concat([chunk, buffer]);
    if (complete < 0) {
      const newline = buffer.lastIndexOf(0x0a);
      if (newline >= 0) complete = position + newline + 1;
    }
    if (complete >= 0) {
      const end = complete - 1 - position;
      // Negative offsets count from the end in Buffer.lastIndexOf: search only when there is room.
      const start = end > 0 ? buffer.lastIndexOf(0x0a, end - 1) : -1;
      if (start >= 0) return { complete, line: buffer.subarray(start + 1, end).toString('utf8') };
    }
  }
  if (complete < 0) return { complete: 0, line: undefined };
  return { complete, line: buffer.subarray(0, complete - 1).toString('utf8') };
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(dirname(path), constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  // Some file systems refuse fsync on a directory; the data itself is already synced.
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

function unavailable(path: string, error: unknown): BatonError {
  return new BatonError(
    'AUDIT_UNAVAILABLE',
    `Cannot use the audit file ${path}: ${(error as Error).message}`,
    { cause: error, details: { path } },
  );
}
