/**
 * Long-term memory in a directory, shared by every process on one machine: what a CLI, a script run
 * twice, or a single-machine deployment needs when `inMemoryStore` forgets everything at exit and NATS
 * or PostgreSQL would be one service too many. It is the in-memory store, loaded from and saved to one
 * snapshot file. Meant for personal-scale memory (thousands of records): every write rewrites the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { BatonError } from '../errors.js';
import { withFileLock } from '../journal/file-lock.js';
import { InMemoryStore, type InMemoryStoreOptions, type MemorySnapshot } from './in-memory.js';
import type {
  MemoryHit,
  MemoryKind,
  MemoryNamespace,
  MemoryPutOptions,
  MemoryRecord,
  MemorySearchOptions,
  MemoryStore,
  MemorySubject,
} from './store.js';
import { MEMORY_LIMITS, memoryRecordSchema, memorySubjectSchema } from './validate.js';

export interface FileMemoryStoreOptions extends InMemoryStoreOptions {
  /** The directory of the store (created owner-only when missing), e.g. `.baton/memory`. */
  dir: string;
  /** How long a write waits for another process's write before MEMORY_UNAVAILABLE (default 10 000 ms). */
  lockWaitMs?: number;
}

/** The snapshot: a header line with a checksum of the data line, then the data line. */
export const MEMORY_FILE = 'memory.json';
const LOCK_FILE = 'memory.lock';
const FORMAT = 'baton-memory';

const optionsSchema = z.object({
  dir: z.string().min(1, 'must be a directory path'),
  lockWaitMs: z.number().int().positive().optional(),
  maxAgeMs: z.number().int().positive().optional(),
  minSimilarity: z.number().min(-1).max(1).optional(),
  now: z.custom<() => number>((value) => typeof value === 'function').optional(),
});

const headerSchema = z.strictObject({
  format: z.literal(FORMAT),
  v: z.literal(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const sameNamespace = (a: MemoryRecord['namespace'], b: MemoryRecord['namespace']) =>
  a.tenant === b.tenant && a.user === b.user && a.scope === b.scope;

const entrySchema = z
  .strictObject({
    current: memoryRecordSchema,
    history: z.array(memoryRecordSchema).max(MEMORY_LIMITS.historyMax),
    embedding: z.array(z.number().finite()).min(1).max(MEMORY_LIMITS.embeddingMaxDims).optional(),
  })
  .refine(
    ({ current, history }) =>
      history.every(
        (old, index) =>
          old.key === current.key &&
          sameNamespace(old.namespace, current.namespace) &&
          old.version < (history[index + 1]?.version ?? current.version),
      ),
    'an earlier version belongs to another record, or versions are out of order',
  );

const dataSchema = z
  .strictObject({ entries: z.array(entrySchema), optedOut: z.array(memorySubjectSchema) })
  .refine((data) => {
    const ids = data.entries.map(({ current: { namespace: ns, key } }) =>
      JSON.stringify([ns.tenant, ns.user ?? null, ns.scope, key]),
    );
    return new Set(ids).size === ids.length;
  }, 'a key is stored twice');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const errorCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * The in-memory store with a file behind it. Every operation first brings the in-memory copy up to date
 * with the file (when another process replaced it); every write then holds a lock file across processes
 * while it changes the copy and replaces the file whole (a temporary file, fsynced, renamed over), so a
 * crash leaves the old snapshot or the new one, never half of one.
 *
 * A snapshot rather than an append-only log: erasure (`delete`, `forgetSubject`, opt-out) must leave
 * nothing behind, and a log keeps every erased value until it is compacted. The file is read through
 * zod and a checksum: a corrupt or hand-edited file is refused with MEMORY_INVALID, never half-trusted,
 * and never overwritten.
 */
export class FileMemoryStore implements MemoryStore {
  readonly backend = 'file';
  readonly dir: string;
  /** The snapshot file, for tools that read the backend directly (erasure checks). */
  readonly path: string;
  private readonly memory: InMemoryStore;
  private readonly lockPath: string;
  private readonly lockWaitMs: number;
  /**
   * The checksum of the file content the in-memory copy holds and the file's identity when it was read
   * (both undefined: no file, an empty copy). Undefined when the copy cannot be trusted to match the
   * file (a failed write, a close): the next operation loads the file again.
   */
  private loaded: { sha: string | undefined; signature: string | undefined } | undefined = {
    sha: undefined,
    signature: undefined,
  };
  /** Operations of this instance run one at a time: a refresh never swaps the copy under a write. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly ready: Promise<void>;

  constructor(options: FileMemoryStoreOptions) {
    const checked = optionsSchema.safeParse(options);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new BatonError(
        'CONFIG_INVALID',
        `fileMemoryStore: "${issue?.path.join('.') || 'options'}" ${issue?.message ?? 'is invalid'}`,
      );
    }
    this.dir = resolve(options.dir);
    this.path = join(this.dir, MEMORY_FILE);
    this.lockPath = join(this.dir, LOCK_FILE);
    this.lockWaitMs = options.lockWaitMs ?? 10_000;
    const { dir: _dir, lockWaitMs: _wait, ...memoryOptions } = options;
    this.memory = new InMemoryStore(memoryOptions);
    // Memory is personal data: the directory and the file are the owner's only.
    this.ready = mkdir(this.dir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        throw unavailable(`cannot create ${this.dir}`, error);
      },
    );
    this.ready.catch(() => undefined);
  }

  put(
    namespace: MemoryNamespace,
    key: string,
    value: string,
    options?: MemoryPutOptions,
  ): Promise<MemoryRecord> {
    return this.write((memory) => memory.put(namespace, key, value, options));
  }

  get(namespace: MemoryNamespace, key: string): Promise<MemoryRecord | undefined> {
    return this.read((memory) => memory.get(namespace, key));
  }

  history(namespace: MemoryNamespace, key: string): Promise<MemoryRecord[]> {
    return this.read((memory) => memory.history(namespace, key));
  }

  list(namespace: MemoryNamespace, options?: { kind?: MemoryKind; limit?: number }): Promise<MemoryRecord[]> {
    return this.read((memory) => memory.list(namespace, options));
  }

  search(namespace: MemoryNamespace, query: string, options?: MemorySearchOptions): Promise<MemoryHit[]> {
    return this.read((memory) => memory.search(namespace, query, options));
  }

  delete(namespace: MemoryNamespace, key: string): Promise<boolean> {
    return this.write((memory) => memory.delete(namespace, key));
  }

  exportSubject(subject: MemorySubject): Promise<MemoryRecord[]> {
    return this.read((memory) => memory.exportSubject(subject));
  }

  forgetSubject(subject: MemorySubject): Promise<number> {
    return this.write((memory) => memory.forgetSubject(subject));
  }

  setOptOut(subject: MemorySubject, optedOut: boolean): Promise<void> {
    return this.write((memory) => memory.setOptOut(subject, optedOut));
  }

  isOptedOut(subject: MemorySubject): Promise<boolean> {
    return this.read((memory) => memory.isOptedOut(subject));
  }

  purgeExpired(): Promise<number> {
    return this.write((memory) => memory.purgeExpired());
  }

  /** Leaves the file as it is (every write is already on disk) and drops the in-memory copy. */
  close(): Promise<void> {
    return this.serially(async () => {
      await this.memory.close();
      this.loaded = undefined;
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Reads need no lock: the file is only ever replaced whole, so a reader sees one snapshot or the next. */
  private read<T>(work: (memory: InMemoryStore) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      await this.ready;
      await this.refresh();
      return work(this.memory);
    });
  }

  private write<T>(work: (memory: InMemoryStore) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      await this.ready;
      return this.locked(async () => {
        await this.sweepLeftovers();
        await this.refresh();
        const result = await work(this.memory);
        try {
          await this.persist();
        } catch (error) {
          // The copy is ahead of the file now: the next operation reloads the file instead.
          this.loaded = undefined;
          throw error;
        }
        return result;
      });
    });
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await withFileLock(this.lockPath, { waitMs: this.lockWaitMs, staleMs: 30_000 }, work);
    } catch (error) {
      if (BatonError.is(error, 'JOURNAL_UNAVAILABLE')) {
        throw unavailable(`cannot lock ${this.lockPath}`, error);
      }
      throw error;
    }
  }

  /** Loads the file when it is not the one the copy holds: another process (or instance) wrote it. */
  private async refresh(): Promise<void> {
    const signature = await this.signature();
    if (this.loaded !== undefined && signature === this.loaded.signature) return;
    if (signature === undefined) {
      // No file (yet, or deleted by hand): an empty store.
      if (this.loaded?.sha !== undefined || this.loaded === undefined) {
        this.memory.restore({ entries: [], optedOut: [] });
      }
      this.loaded = { sha: undefined, signature: undefined };
      return;
    }
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return this.refresh();
      throw unavailable(`cannot read ${this.path}`, error);
    }
    const { sha, data } = this.decode(text);
    if (sha !== this.loaded?.sha) this.memory.restore(data());
    this.loaded = { sha, signature };
  }

  /** The header is checked at once; the data is parsed only when it differs from what is loaded. */
  private decode(text: string): { sha: string; data: () => MemorySnapshot } {
    const newline = text.indexOf('\n');
    const body = newline < 0 ? '' : text.slice(newline + 1).replace(/\n$/, '');
    let header: z.infer<typeof headerSchema>;
    try {
      header = headerSchema.parse(JSON.parse(newline < 0 ? text : text.slice(0, newline)));
    } catch {
      throw this.invalid('its first line is not a Baton memory header');
    }
    if (sha256(body) !== header.sha256) {
      throw this.invalid('its content does not match its checksum (changed outside Baton, or damaged)');
    }
    return {
      sha: header.sha256,
      data: () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          throw this.invalid('its data is not JSON');
        }
        const parsed = dataSchema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw this.invalid(`${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'invalid'}`);
        }
        return parsed.data as MemorySnapshot;
      },
    };
  }

  /** Replaces the file with the copy's snapshot (nothing is written when nothing changed). */
  private async persist(): Promise<void> {
    const body = JSON.stringify(this.memory.snapshot());
    const sha = sha256(body);
    if (sha === this.loaded?.sha) return;
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify({ format: FORMAT, v: 1, sha256: sha })}\n${body}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
      // A file made by another tool keeps its mode through a rename: ours is the owner's only.
      await chmod(this.path, 0o600).catch(() => undefined);
      await syncDir(this.dir);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw unavailable(`cannot write ${this.path}`, error);
    }
    this.loaded = { sha, signature: await this.signature() };
  }

  /**
   * Temporary files of writers that crashed before their rename. Writers hold the lock while theirs
   * exists, so under the lock every one is a leftover — and it may hold a forgotten user's data.
   */
  private async sweepLeftovers(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(`${MEMORY_FILE}.`) && name.endsWith('.tmp')) {
        await unlink(join(this.dir, name)).catch(() => undefined);
      }
    }
  }

  /** The file's identity: a rename gives it a new inode and change time, so any replacement shows. */
  private async signature(): Promise<string | undefined> {
    try {
      const info = await stat(this.path, { bigint: true });
      return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw unavailable(`cannot read ${this.path}`, error);
    }
  }

  private invalid(problem: string): BatonError {
    return new BatonError('MEMORY_INVALID', `The memory file ${this.path} is unreadable: ${problem}`, {
      details: { path: this.path },
      hint: 'Restore it from a backup, or move it aside to start an empty memory (its records are then gone)',
    });
  }
}

function unavailable(what: string, error: unknown): BatonError {
  return new BatonError('MEMORY_UNAVAILABLE', `fileMemoryStore: ${what}: ${(error as Error).message}`, {
    cause: error,
  });
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  // Some file systems refuse fsync on a directory; the file itself is already synced.
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

/**
 * Memory kept in `options.dir` (one snapshot file), shared by the processes of one machine. Lexical BM25
 * recall, recency weighting and cosine similarity for embeddings, as `inMemoryStore`.
 */
export function fileMemoryStore(options: FileMemoryStoreOptions): FileMemoryStore {
  return new FileMemoryStore(options);
}
