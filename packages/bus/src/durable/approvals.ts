import {
  type ApprovalDecision,
  type ApprovalFilter,
  type ApprovalRecord,
  type ApprovalRequestRecord,
  type ApprovalStore,
  alreadyDecided,
  approvalKey,
  BatonError,
  checkRunId,
  decodeApprovalRecord,
  effectiveStatus,
  encodeApprovalRecord,
  matchesApprovalFilter,
  unknownApproval,
  withDecision,
  withExpiry,
} from '@baton/core';
import { jetstream } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import { jetstreamNames, resolveNamespace } from '../subjects.js';
import type { NatsBus } from '../transport/nats.js';
import { isWrongLastSequence, storeUnavailable } from './nats-errors.js';

export interface NatsApprovalsOptions {
  /** The tenant (default `default`): the bucket is `BATON_<ns>_APPROVALS`. */
  namespace?: string;
  /** Revisions kept per call, so who asked and who decided can be audited (default 5, at least 2). */
  history?: number;
  /** The longest any one call waits for the server (default 5 s). */
  timeoutMs?: number;
}

/** Concurrent deciders re-read after a lost CAS; the second read always sees a decision, so this is ample. */
const DECIDE_ATTEMPTS = 5;

/**
 * Approval records in a NATS KV bucket, one key per call (`<runId>.<base64url call id>`), shared by every
 * process on the bus. `request` creates the key (an existing one is returned as is); `decide` is a
 * compare-and-set on the revision it read, so of any number of deciders exactly one wins.
 */
export function natsApprovals(bus: NatsBus, options: NatsApprovalsOptions = {}): ApprovalStore {
  const namespace = resolveNamespace('natsApprovals', options.namespace);
  const history = options.history ?? 5;
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (!Number.isInteger(history) || history < 2 || history > 64) {
    throw new BatonError('CONFIG_INVALID', 'natsApprovals: history must be an integer from 2 to 64');
  }
  const bucketName = jetstreamNames.approvalsBucket(namespace);
  let bucket: Promise<KV> | undefined;
  const kv = (): Promise<KV> => {
    if (bus.connection.isClosed()) {
      return Promise.reject(new BatonError('BUS_CLOSED', 'natsApprovals: the bus is closed'));
    }
    const kvm = new Kvm(jetstream(bus.connection, { timeout: timeoutMs }));
    bucket ??= kvm
      .create(bucketName, { history })
      // A bucket created with other settings (another history) is used as it is rather than refused.
      .catch((error: unknown) => kvm.open(bucketName).catch(() => Promise.reject(error)))
      .catch((error: unknown) => {
        bucket = undefined;
        throw unavailable(`Cannot open the KV bucket ${bucketName}`, error);
      });
    return bucket;
  };

  const decode = (entry: KvEntry, expect?: { runId: string; toolCallId: string }) =>
    withExpiry(decodeApprovalRecord(entry.string(), `${bucketName}/${entry.key}@${entry.revision}`, expect));

  const read = async (key: string, expect?: { runId: string; toolCallId: string }) => {
    let entry: KvEntry | null;
    try {
      entry = await (await kv()).get(key);
    } catch (error) {
      throw unavailable(`Cannot read ${bucketName}/${key}`, error);
    }
    if (entry?.operation !== 'PUT') return undefined;
    return { entry, record: decode(entry, expect) };
  };

  return {
    async request(request: ApprovalRequestRecord): Promise<ApprovalRecord> {
      const key = approvalKey(request.runId, request.toolCallId);
      const record: ApprovalRecord = { ...request, v: 1, status: 'pending' };
      const text = encodeApprovalRecord(record);
      const store = await kv();
      try {
        await store.create(key, text);
        return decodeApprovalRecord(text, `${bucketName}/${key}`);
      } catch (error) {
        if (!isWrongLastSequence(error)) throw unavailable(`Cannot write ${bucketName}/${key}`, error);
      }
      const stored = await read(key, request);
      if (!stored) throw unknownApproval(request.runId, request.toolCallId);
      return stored.record;
    },
    async get(runId: string, toolCallId: string): Promise<ApprovalRecord | undefined> {
      return (await read(approvalKey(runId, toolCallId), { runId, toolCallId }))?.record;
    },
    async list(filter: ApprovalFilter = {}): Promise<ApprovalRecord[]> {
      const store = await kv();
      const keys: string[] = [];
      try {
        for await (const key of await store.keys(keyFilter(filter))) keys.push(key);
      } catch (error) {
        throw unavailable(`Cannot list ${bucketName}`, error);
      }
      const records = await Promise.all(keys.map(async (key) => (await read(key))?.record));
      return records
        .filter(
          (record): record is ApprovalRecord => record !== undefined && matchesApprovalFilter(record, filter),
        )
        .sort((a, b) => a.requestedAt - b.requestedAt);
    },
    async decide(runId: string, toolCallId: string, decision: ApprovalDecision, by: string) {
      const key = approvalKey(runId, toolCallId);
      const store = await kv();
      for (let attempt = 1; ; attempt++) {
        const current = await read(key, { runId, toolCallId });
        if (!current) throw unknownApproval(runId, toolCallId);
        const status = effectiveStatus(current.record);
        if (status !== 'pending') throw alreadyDecided(current.record, status);
        const decided = withDecision(current.record, decision, by);
        try {
          await store.update(key, encodeApprovalRecord(decided), current.entry.revision);
          return decided;
        } catch (error) {
          // A lost CAS: someone wrote since our read. Read again; it is most likely decided now.
          if (!isWrongLastSequence(error) || attempt >= DECIDE_ATTEMPTS) {
            throw unavailable(`Cannot write ${bucketName}/${key}`, error);
          }
        }
      }
    },
    watch(filter: ApprovalFilter, listener: (record: ApprovalRecord) => void): () => void {
      let stopped = false;
      let stop = () => {};
      void (async () => {
        const store = await kv();
        if (stopped) return;
        // The default includes each key's last value first, then every update.
        const changes = await store.watch({ key: keyFilter(filter), ignoreDeletes: true });
        stop = () => changes.stop();
        if (stopped) return changes.stop();
        for await (const entry of changes) {
          if (stopped) break;
          if (entry.operation !== 'PUT') continue;
          let record: ApprovalRecord;
          try {
            record = decode(entry);
          } catch {
            // A record nobody can read is refused by get/decide with its reason; the watch goes on.
            continue;
          }
          if (!matchesApprovalFilter(record, filter)) continue;
          try {
            listener(record);
          } catch {
            // A throwing listener is the watcher's bug; it must not end the watch.
          }
        }
      })().catch(() => undefined);
      return () => {
        stopped = true;
        stop();
      };
    },
  };
}

function keyFilter(filter: ApprovalFilter): string {
  return filter.runId === undefined ? '>' : `${checkRunId('natsApprovals', filter.runId)}.*`;
}

function unavailable(what: string, error: unknown) {
  return storeUnavailable('BUS_DISCONNECTED', what, error);
}
