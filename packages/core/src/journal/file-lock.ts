import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { BatonError } from '../errors.js';

export interface FileLockOptions {
  /** How long to wait for another holder before giving up with JOURNAL_UNAVAILABLE. */
  waitMs: number;
  /**
   * A lock held longer than this is taken to belong to a hung or recycled process and is broken. Holders
   * keep the lock for one append (a write and an fsync), so this is far above any honest hold.
   */
  staleMs: number;
}

const holderSchema = z.object({ pid: z.number().int().positive(), token: z.string(), at: z.number() });

/** A lock file that exists but is still empty this long after its creation was left by a crash mid-create. */
const EMPTY_STALE_MS = 1_000;

/** Holders in this process queue here, so they wait for each other without polling the file system. */
const queues = new Map<string, Promise<void>>();

/**
 * Runs `work` while holding the lock at `path`, exclusive across this process and every other process on
 * the machine. Node has no flock, so the lock is a file created with O_EXCL that names its holder's pid:
 * a lock whose holder is dead (SIGKILL) or that is older than `staleMs` is broken, so a crashed writer
 * never blocks the next one for long.
 *
 * The lock's own file operations are synchronous on purpose: each is one syscall on a tiny local file
 * (microseconds), while the same calls through the thread pool cost ~0.4 ms per append here, and every
 * microsecond the lock is held is a microsecond another writer waits.
 */
export async function withFileLock<T>(
  path: string,
  options: FileLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  let done = () => {};
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const tail = previous.then(() => mine);
  queues.set(path, tail);
  await previous;
  try {
    const token = await acquire(path, options);
    try {
      return await work();
    } finally {
      release(path, token);
    }
  } finally {
    done();
    if (queues.get(path) === tail) queues.delete(path);
  }
}

async function acquire(path: string, options: FileLockOptions): Promise<string> {
  const token = randomBytes(9).toString('base64url');
  const content = JSON.stringify({ pid: process.pid, token, at: Date.now() });
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, content, { flag: 'wx' });
      return token;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw unavailable(path, error);
    }
    if (breakIfStale(path, options.staleMs)) continue;
    if (Date.now() >= deadline) {
      throw new BatonError('JOURNAL_UNAVAILABLE', `Timed out waiting for the lock ${path}`, {
        details: { path, waitMs: options.waitMs },
        hint: 'Another live process is writing this run; if none is, delete the lock file',
      });
    }
    await sleep(Math.min(2 ** attempt, 25));
  }
}

function release(path: string, token: string): void {
  // A lock broken as stale may belong to someone else by now: only remove our own.
  if (readHolder(path)?.token !== token) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Breaks the lock when its holder is gone; true when the caller should try to take it again at once. */
function breakIfStale(path: string, staleMs: number): boolean {
  let text: string;
  let age: number;
  try {
    text = readFileSync(path, 'utf8');
    age = Date.now() - statSync(path).mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw unavailable(path, error);
  }
  const holder = parseHolder(text);
  const stale = holder ? !isAlive(holder.pid) || age > staleMs : age > EMPTY_STALE_MS;
  if (!stale) return false;
  // Move the stale lock aside before deleting it: of two processes breaking it at once only one moves
  // it, and a fresh lock taken in between is put back instead of deleted.
  const aside = `${path}.${randomBytes(6).toString('base64url')}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw unavailable(path, error);
  }
  try {
    if (readFileSync(aside, 'utf8') !== text) linkSync(aside, path);
  } catch {
    // the fresh holder's lock could not be put back: it will find its lock gone when it releases
  }
  try {
    unlinkSync(aside);
  } catch {
    // swept later as a leftover
  }
  return true;
}

function readHolder(path: string): z.infer<typeof holderSchema> | undefined {
  try {
    return parseHolder(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): z.infer<typeof holderSchema> | undefined {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Signal 0 tests for a process without touching it; EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function unavailable(path: string, error: unknown): BatonError {
  return new BatonError('JOURNAL_UNAVAILABLE', `Cannot use the lock ${path}: ${(error as Error).message}`, {
    cause: error,
    details: { path },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
