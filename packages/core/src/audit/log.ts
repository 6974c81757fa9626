import { BatonError } from '../errors.js';
import { chainRecord } from './chain.js';
import { fileAuditSink } from './file-sink.js';
import { type AuditKey, auditKeyId, auditPrivateKey, signHead } from './heads.js';
import type { AuditEvent, AuditHead, AuditRecord, AuditSink, AuditTail } from './types.js';

/** Where the log goes without a sink: beside the traces, in the working directory. */
export const DEFAULT_AUDIT_FILE = '.baton/audit.jsonl';
export const DEFAULT_SIGN_EVERY = 100;
/** Appends that lose to another writer are chained again after it this many times before giving up. */
const CONFLICT_ATTEMPTS = 20;

export interface AuditLogOptions {
  /** Where records go (default `fileAuditSink({ path: '.baton/audit.jsonl' })`). */
  sink?: AuditSink;
  /** ed25519 private key for signed heads. Without one the log is a hash chain only (see `verifyAudit`). */
  signingKey?: AuditKey;
  /** Names the key in every head (default: derived from the public key, see `auditKeyId`). */
  keyId?: string;
  /** A head is signed after every record whose seq is a multiple of this (default 100), and on close. */
  signEvery?: number;
  /**
   * Called with each head once it is stored. Keeping the latest head somewhere else is what lets a
   * verifier see a log cut short together with its heads (`verifyAudit(..., { latestHead })`).
   */
  onHead?: (head: AuditHead) => void;
}

export interface AuditLog {
  /**
   * Appends the event as the next record; resolves once it is durable. Calls are serialized, so concurrent
   * calls get consecutive sequence numbers. A rejected call may still have been stored (a write whose
   * acknowledgement was lost): the chain stays valid either way.
   */
  record(event: AuditEvent): Promise<AuditRecord>;
  /** Signs the last record this log wrote (when it is still the tail) and closes the sink. Idempotent. */
  close(): Promise<void>;
  readonly sink: AuditSink;
}

/**
 * An append-only, hash-chained audit log over a sink. Several logs may share one store (processes, workers):
 * a record that loses the race to the tail is chained again after the winner, so the chain never forks. A
 * log only signs a tail it wrote itself: it never attests records it has not seen being made.
 */
export function createAuditLog(options: AuditLogOptions = {}): AuditLog {
  const sink = options.sink ?? fileAuditSink({ path: DEFAULT_AUDIT_FILE });
  const signEvery = options.signEvery ?? DEFAULT_SIGN_EVERY;
  if (!Number.isInteger(signEvery) || signEvery < 1) {
    throw new BatonError('CONFIG_INVALID', 'createAuditLog: signEvery must be a positive integer');
  }
  const key = options.signingKey === undefined ? undefined : auditPrivateKey(options.signingKey);
  const keyId = options.keyId ?? (key ? auditKeyId(key) : undefined);
  /** The stored tail as this log last saw it; undefined `known` means read it again before appending. */
  let tail: AuditTail | undefined;
  let known = false;
  let lastOwn: AuditTail | undefined;
  let signedSeq = 0;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  const currentTail = async (): Promise<AuditTail | undefined> => {
    if (!known) {
      tail = await sink.tail();
      known = true;
    }
    return tail;
  };

  const sign = async (signed: AuditTail): Promise<void> => {
    if (!key || !keyId) return;
    const head = signHead(signed, key, keyId);
    try {
      // A head follows the record it signs, so a sink's tail is right whether it ends in a record or a head.
      await sink.append({ head }, signed);
    } catch (error) {
      known = false;
      // Someone appended after our record: their records are not ours to sign; the next head covers ours.
      if (BatonError.is(error, 'AUDIT_CONFLICT')) return;
      throw error;
    }
    signedSeq = head.seq;
    try {
      options.onHead?.(head);
    } catch {
      // an observer's failure is not the log's: the head is stored
    }
  };

  return {
    sink,
    record(event: AuditEvent): Promise<AuditRecord> {
      const now = Date.now();
      return serial(async () => {
        if (closed)
          throw new BatonError('AUDIT_UNAVAILABLE', 'The audit log is closed', { retryable: false });
        for (let attempt = 1; ; attempt++) {
          const after = await currentTail();
          const record = chainRecord(event, after, now);
          try {
            await sink.append({ record }, after);
          } catch (error) {
            known = false;
            if (BatonError.is(error, 'AUDIT_CONFLICT') && attempt < CONFLICT_ATTEMPTS) continue;
            throw error;
          }
          tail = { seq: record.seq, hash: record.hash };
          lastOwn = tail;
          if (record.seq % signEvery === 0) await sign(tail);
          return record;
        }
      });
    },
    close(): Promise<void> {
      return serial(async () => {
        if (closed) return;
        closed = true;
        try {
          if (lastOwn && lastOwn.seq > signedSeq) await sign(lastOwn);
        } finally {
          await sink.close();
        }
      });
    },
  };
}
