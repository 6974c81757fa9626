import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorCode } from '../journal/file-lock.js';
import type { ApprovalDecision } from '../run/types.js';
import { approvalKey, decodeApprovalRecord, encodeApprovalRecord } from './codec.js';
import {
  alreadyDecided,
  callListener,
  matches,
  unknownApproval,
  withDecision,
  withExpiry,
} from './memory.js';
import {
  type ApprovalFilter,
  type ApprovalRecord,
  type ApprovalRequestRecord,
  type ApprovalStore,
  effectiveStatus,
} from './types.js';

export interface FileApprovalsOptions {
  /** The directory holding the records (created when missing). */
  dir: string;
  /** How often `watch` looks for changes made by other processes (default 250 ms). */
  pollMs?: number;
}

const REQUEST = '.json';
const DECISION = '.decided.json';

/**
 * Approval records as files, shared by every process on one machine. A call has a request file
 * (`<key>.json`) and, once decided, a decision file (`<key>.decided.json`) holding the decided record.
 * Both are created whole and at most once (a temporary file hard-linked into place: link fails when the
 * name exists), so of any number of deciders in any number of processes exactly one wins.
 */
export function fileApprovals(options: FileApprovalsOptions): ApprovalStore {
  const dir = resolve(options.dir);
  const pollMs = options.pollMs ?? 250;
  const ready = mkdir(dir, { recursive: true }).then(() => undefined);
  ready.catch(() => undefined);
  const path = (key: string, suffix: string) => join(dir, `${key}${suffix}`);

  const read = async (key: string, expect?: { runId: string; toolCallId: string }) => {
    const decided = await readText(path(key, DECISION));
    if (decided !== undefined) return decodeApprovalRecord(decided, path(key, DECISION), expect);
    const requested = await readText(path(key, REQUEST));
    if (requested === undefined) return undefined;
    return withExpiry(decodeApprovalRecord(requested, path(key, REQUEST), expect));
  };

  /** Every key in the directory (optionally of one run), without reading any record. */
  const keys = async (runId?: string): Promise<string[]> => {
    const found = new Set<string>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const key = keyOf(name);
      if (key && (runId === undefined || key.startsWith(`${runId}.`))) found.add(key);
    }
    return [...found];
  };

  const store: ApprovalStore = {
    async request(request: ApprovalRequestRecord): Promise<ApprovalRecord> {
      const key = approvalKey(request.runId, request.toolCallId);
      await ready;
      const record: ApprovalRecord = { ...request, v: 1, status: 'pending' };
      const text = encodeApprovalRecord(record);
      if (await createOnce(path(key, REQUEST), text)) {
        return decodeApprovalRecord(text, path(key, REQUEST));
      }
      const stored = await read(key, request);
      if (!stored) throw unknownApproval(request.runId, request.toolCallId);
      return stored;
    },
    async get(runId: string, toolCallId: string): Promise<ApprovalRecord | undefined> {
      const key = approvalKey(runId, toolCallId);
      await ready;
      return read(key, { runId, toolCallId });
    },
    async list(filter: ApprovalFilter = {}): Promise<ApprovalRecord[]> {
      await ready;
      const records = await Promise.all((await keys(filter.runId)).map((key) => read(key)));
      return records
        .filter((record): record is ApprovalRecord => record !== undefined && matches(record, filter))
        .sort((a, b) => a.requestedAt - b.requestedAt);
    },
    async decide(runId: string, toolCallId: string, decision: ApprovalDecision, by: string) {
      const key = approvalKey(runId, toolCallId);
      await ready;
      const current = await read(key, { runId, toolCallId });
      if (!current) throw unknownApproval(runId, toolCallId);
      const status = effectiveStatus(current);
      if (status !== 'pending') throw alreadyDecided(current, status);
      const decided = withDecision(current, decision, by);
      if (await createOnce(path(key, DECISION), encodeApprovalRecord(decided))) return decided;
      const winner = (await read(key, { runId, toolCallId })) ?? current;
      throw alreadyDecided(winner);
    },
    watch(filter: ApprovalFilter, listener: (record: ApprovalRecord) => void): () => void {
      const seen = new Map<string, string>();
      let stopped = false;
      let running = false;
      const poll = async () => {
        if (stopped || running) return;
        running = true;
        try {
          for (const key of await keys(filter.runId)) {
            const signature = await signatureOf(path(key, REQUEST), path(key, DECISION));
            if (seen.get(key) === signature) continue;
            const record = await read(key).catch(() => undefined);
            if (!record) continue;
            seen.set(key, signature);
            if (!stopped && matches(record, filter)) callListener(listener, record);
          }
        } finally {
          running = false;
        }
      };
      // Other processes write these files: polling is the portable way to hear of it (fs.watch is not).
      const timer = setInterval(() => void poll().catch(() => undefined), pollMs);
      timer.unref();
      void ready.then(poll).catch(() => undefined);
      return () => {
        stopped = true;
        clearInterval(timer);
      };
    },
  };
  return store;
}

/**
 * Creates `path` with `text` unless it exists, atomically and whole: readers never see a half-written
 * record, and of concurrent creators exactly one succeeds. Synced before it is linked, so a record that
 * was reported written survives a crash.
 */
async function createOnce(path: string, text: string): Promise<boolean> {
  const temp = `${path}.${randomBytes(6).toString('base64url')}.tmp`;
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await file.write(text);
    await file.datasync();
  } finally {
    await file.close();
  }
  try {
    await link(temp, path);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const folder = await open(resolve(path, '..'), constants.O_RDONLY).catch(() => undefined);
  await folder?.sync().catch(() => undefined);
  await folder?.close().catch(() => undefined);
  return true;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** What changes when a call's files change: cheaper than reading every record on every poll. */
async function signatureOf(request: string, decision: string): Promise<string> {
  const [a, b] = await Promise.all([
    stat(request).catch(() => undefined),
    stat(decision).catch(() => undefined),
  ]);
  return `${a?.mtimeMs ?? '-'}:${a?.size ?? '-'}|${b?.mtimeMs ?? '-'}:${b?.size ?? '-'}`;
}

function keyOf(name: string): string | undefined {
  if (name.endsWith('.tmp')) return undefined;
  const key = name.endsWith(DECISION)
    ? name.slice(0, -DECISION.length)
    : name.endsWith(REQUEST)
      ? name.slice(0, -REQUEST.length)
      : undefined;
  return key && /^[A-Za-z0-9_-]{1,128}\.[A-Za-z0-9_=-]+$/.test(key) ? key : undefined;
}
