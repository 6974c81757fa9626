import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { BatonError } from '../errors.js';
import { argsHashOf, recordHashOf } from './chain.js';
import { isHeadEntry } from './codec.js';
import { type AuditKey, auditPublicKey, headSigned } from './heads.js';
import {
  AUDIT_GENESIS,
  type AuditHead,
  type AuditRecord,
  auditHeadSchema,
  auditRecordSchema,
} from './types.js';

/** What broke, for programs; `reason` says it for people. */
export type AuditProblem =
  /** Not a well-formed record or head (a field edited to a wrong type, a line that is not JSON). */
  | 'invalid'
  /** The record's content no longer matches its hash. */
  | 'modified'
  /** The record intact, but records before it are gone. */
  | 'deleted'
  /** The record intact, but out of its place while the missing one appears later. */
  | 'reordered'
  /** A second record with a number already seen. */
  | 'inserted'
  /** The record intact and in place, but it does not follow the record before it (one of them was forged). */
  | 'unlinked'
  /** Fewer records than a signed head, the latest head or the expected count says were written. */
  | 'truncated'
  /** The records are self-consistent but differ from what a head signed (the chain was recomputed). */
  | 'rewritten'
  /** A head whose signature none of the keys made. */
  | 'bad_signature'
  /** With `requireSigned`: records after the last signed head. */
  | 'unsigned';

export interface VerifyAuditOptions {
  /** The public key(s) heads are checked with. Without one, heads are ignored: only the chain is checked. */
  publicKey?: AuditKey | readonly AuditKey[];
  /** The latest head, kept apart from the log (another system, a printout): detects a cut that took heads too. */
  latestHead?: unknown;
  /** At least this many records were written (known from elsewhere): fewer is a truncated tail. */
  minRecords?: number;
  /** Every record must be covered by a signed head (a closed log): records after the last one fail. */
  requireSigned?: boolean;
}

export type AuditVerification =
  | {
      ok: true;
      records: AuditRecord[];
      /** The heads whose signature and hash check out, by sequence number. */
      heads: AuditHead[];
      /** The highest sequence number a good head covers (0 when none): records after it are not attested. */
      signedThrough: number;
    }
  | { ok: false; brokenAt: number; problem: AuditProblem; reason: string };

interface Broken {
  brokenAt: number;
  problem: AuditProblem;
  reason: string;
  /** The sequence number found where another belonged (for the reordered-or-deleted diagnosis). */
  found?: number;
}

/**
 * Checks an audit log: every record well-formed and matching its hash and argsHash, numbered 1, 2, 3, ...
 * with no gap, each linking to the one before (record 1 to the genesis value), and every head signed by one
 * of the keys and matching the record it names. Returns the first broken link: the lowest sequence number
 * where the log stops being what was written. Records and heads are taken as stored (unknown), since a
 * tampered log is exactly the input that does not fit the types.
 *
 * Without a signed head (no heads, no key) the chain alone detects, anywhere but at the very end: the
 * modification of any field of any record, an inserted record, a deleted record and records out of order.
 * It does NOT detect: records cut off the end (the rest is still a valid chain), records appended at the
 * end by someone else (anyone can compute the next hash), or a chain recomputed from the first changed
 * record on (the same reason: hashes need no secret).
 *
 * With signed heads in the log and the public key it also detects: truncation below a head that is still
 * there, and any rewriting of records at or before a head (rewriting needs the private key to re-sign).
 * A cut that also removes the heads after it (the file truncated, not edited) is only seen with a head or a
 * count from outside the log: `latestHead` or `minRecords`. Records after the last head are checked as a
 * chain but not attested (`signedThrough` says where attestation ends; `requireSigned` makes them fail).
 */
export function verifyAudit(
  records: readonly unknown[],
  heads: readonly unknown[],
  options: VerifyAuditOptions = {},
): AuditVerification {
  const verifier = new AuditVerifier(options);
  for (const record of records) verifier.record(record);
  for (const head of heads) verifier.head(head);
  return verifier.result();
}

/**
 * `verifyAudit` one entry at a time: a log read from a stream is checked as it arrives, and `fork()` checks
 * several continuations of one verified prefix without checking the prefix again (the tampering suite).
 */
export class AuditVerifier {
  private readonly keys: readonly KeyObject[];
  /**
   * The records checked so far are the first `count` of `verified`. Forks share the array until one of
   * them appends (copy on write), so forking at record 999 of 1,000 copies nothing.
   */
  private verified: AuditRecord[] = [];
  private count = 0;
  private heads: unknown[] = [];
  private previous = AUDIT_GENESIS;
  private seen = 0;
  private broken: Broken | undefined;
  /** After a record that skipped ahead: the number it skipped, looked for in later records (reordered?). */
  private missing: number | undefined;
  /** Signature checks by head content: a fork family checks each head once. Keyed by content, never identity. */
  private readonly signatures: Map<string, boolean>;

  constructor(
    private readonly options: VerifyAuditOptions = {},
    shared?: { keys: readonly KeyObject[]; signatures: Map<string, boolean> },
  ) {
    this.keys = shared?.keys ?? publicKeys(options.publicKey);
    this.signatures = shared?.signatures ?? new Map();
    if (this.keys.length === 0 && (options.latestHead !== undefined || options.requireSigned)) {
      throw new BatonError('CONFIG_INVALID', 'verifyAudit: latestHead and requireSigned need a publicKey');
    }
  }

  /** A stored entry of a sink (`readRaw`): a head or a record, told apart as the sinks store them. */
  entry(raw: unknown): void {
    if (isHeadEntry(raw)) this.head((raw as { head: unknown }).head);
    else this.record(raw);
  }

  /** The next record, in stored order. */
  record(raw: unknown): void {
    const seq = ++this.seen;
    if (this.broken) {
      if (this.missing !== undefined && seqOf(raw) === this.missing) {
        this.broken = {
          ...this.broken,
          problem: 'reordered',
          reason: `found record ${this.broken.found} where ${this.missing} belongs (records reordered)`,
        };
        this.missing = undefined;
      }
      return;
    }
    const failure = this.check(raw, seq);
    if (failure) this.broken = { brokenAt: seq, ...failure };
  }

  /** A head, in any order. */
  head(raw: unknown): void {
    this.heads.push(raw);
  }

  fork(): AuditVerifier {
    const copy = new AuditVerifier(this.options, { keys: this.keys, signatures: this.signatures });
    copy.verified = this.verified;
    copy.count = this.count;
    copy.heads = [...this.heads];
    copy.previous = this.previous;
    copy.seen = this.seen;
    copy.broken = this.broken;
    copy.missing = this.missing;
    return copy;
  }

  result(): AuditVerification {
    const { options } = this;
    const complete = this.broken === undefined;
    const candidates: Broken[] = this.broken ? [this.broken] : [];
    const heads = options.latestHead === undefined ? this.heads : [...this.heads, options.latestHead];
    const signed =
      this.keys.length > 0 ? this.checkHeads(heads, complete) : { heads: [], signedThrough: 0, broken: [] };
    candidates.push(...signed.broken);
    const count = this.count;
    if (complete && options.minRecords !== undefined && count < options.minRecords) {
      candidates.push({
        brokenAt: count + 1,
        problem: 'truncated',
        reason: `the log ends at seq ${count} but ${options.minRecords} records were expected (tail truncated)`,
      });
    }
    // Unsigned records are a policy failure, not evidence: only reported when nothing else is wrong.
    if (candidates.length === 0 && options.requireSigned && signed.signedThrough < count) {
      candidates.push({
        brokenAt: signed.signedThrough + 1,
        problem: 'unsigned',
        reason: `${signed.signedThrough + 1 === count ? `record ${count} is` : `records ${range(signed.signedThrough + 1, count)} are`} not covered by a signed head`,
      });
    }
    // Stable: at equal positions the record's own failure (found first) is the clearer one.
    const first = candidates.reduce<Broken | undefined>(
      (best, each) => (best === undefined || each.brokenAt < best.brokenAt ? each : best),
      undefined,
    );
    if (first) return { ok: false, brokenAt: first.brokenAt, problem: first.problem, reason: first.reason };
    return {
      ok: true,
      records: this.verified.slice(0, this.count),
      heads: signed.heads,
      signedThrough: signed.signedThrough,
    };
  }

  private check(raw: unknown, seq: number): Omit<Broken, 'brokenAt'> | undefined {
    const parsed = auditRecordSchema.safeParse(raw);
    if (!parsed.success) {
      const why =
        typeof raw === 'string' ? 'not JSON' : `not a valid audit record (${firstIssue(parsed.error)})`;
      return { problem: 'invalid', reason: `${why} (record modified)` };
    }
    const record = parsed.data;
    if (recordHashOf(record) !== record.hash) {
      return { problem: 'modified', reason: 'hash does not match (record modified)' };
    }
    const argsHash = record.args === undefined ? undefined : argsHashOf(record.args);
    if (record.argsHash !== argsHash) {
      return { problem: 'modified', reason: 'argsHash does not match the arguments (record modified)' };
    }
    if (record.seq > seq) {
      // Deleted, unless the missing record turns up later (then reordered): `record` decides on the way.
      this.missing = seq;
      const missing =
        seq === record.seq - 1 ? `record ${seq} is` : `records ${range(seq, record.seq - 1)} are`;
      return { problem: 'deleted', reason: `${missing} missing (deleted)`, found: record.seq };
    }
    if (record.seq < seq) {
      return {
        problem: 'inserted',
        reason: `found a second record ${record.seq} where ${seq} belongs (inserted)`,
      };
    }
    if (record.prevHash !== this.previous) {
      return {
        problem: 'unlinked',
        reason:
          seq === 1
            ? 'prevHash is not the genesis value (the first record was replaced)'
            : `prevHash does not match record ${seq - 1} (one of them was replaced by a forged record)`,
      };
    }
    if (this.verified.length !== this.count) this.verified = this.verified.slice(0, this.count);
    this.verified.push(record);
    this.count++;
    this.previous = record.hash;
    return undefined;
  }

  private signedBy(head: AuditHead): boolean {
    // Unambiguous: every field but the last is free of "|" (digits, hex, base64).
    const key = `${head.seq}|${head.hash}|${head.at}|${head.signature}|${head.keyId}`;
    let valid = this.signatures.get(key);
    if (valid === undefined) {
      valid = headSigned(head, this.keys);
      this.signatures.set(key, valid);
    }
    return valid;
  }

  private checkHeads(
    raw: readonly unknown[],
    complete: boolean,
  ): { heads: AuditHead[]; signedThrough: number; broken: Broken[] } {
    const { verified, count } = this;
    const broken: Broken[] = [];
    const parsed: AuditHead[] = [];
    for (const each of raw) {
      const result = auditHeadSchema.safeParse(each);
      if (result.success) parsed.push(result.data);
      else {
        broken.push({
          brokenAt: seqOf(each) ?? count + 1,
          problem: 'invalid',
          reason: `a signed head is not valid (${firstIssue(result.error)})`,
        });
      }
    }
    parsed.sort((a, b) => a.seq - b.seq);
    const good: AuditHead[] = [];
    let signedThrough = 0;
    for (const head of parsed) {
      if (!this.signedBy(head)) {
        broken.push({
          brokenAt: head.seq,
          problem: 'bad_signature',
          reason: `the head at seq ${head.seq} has an invalid signature (a forged or edited head, or another key)`,
        });
        continue;
      }
      if (head.seq > count) {
        // Past a broken record the records are unknown: that record's failure is the one to report.
        if (complete) {
          broken.push({
            brokenAt: count + 1,
            problem: 'truncated',
            reason: `the log ends at seq ${count} but seq ${head.seq} was signed (tail truncated)`,
          });
        }
        continue;
      }
      if (verified[head.seq - 1]?.hash !== head.hash) {
        // The chain is consistent, so the change is anywhere after the last good head: the reason says where.
        broken.push({
          brokenAt: head.seq,
          problem: 'rewritten',
          reason: `the head signed at seq ${head.seq} does not match record ${head.seq} (one of records ${range(signedThrough + 1, head.seq)} was rewritten)`,
        });
        continue;
      }
      good.push(head);
      signedThrough = Math.max(signedThrough, head.seq);
    }
    return { heads: good, signedThrough, broken };
  }
}

function publicKeys(keys: VerifyAuditOptions['publicKey']): KeyObject[] {
  if (keys === undefined) return [];
  const list = (Array.isArray(keys) ? keys : [keys]) as readonly AuditKey[];
  return list.map(auditPublicKey);
}

function seqOf(raw: unknown): number | undefined {
  const seq = typeof raw === 'object' && raw !== null ? (raw as { seq?: unknown }).seq : undefined;
  return typeof seq === 'number' && Number.isInteger(seq) && seq > 0 ? seq : undefined;
}

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unknown';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
