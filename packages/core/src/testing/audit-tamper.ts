/**
 * Every way to tamper with an audit log one change at a time, and a runner that checks `verifyAudit` names
 * each at the right place: the core tests and the reliability suite (`r7`) share it.
 */
import { recordHashOf } from '../audit/chain.js';
import { AUDIT_GENESIS, type AuditEvent, type AuditHead, type AuditRecord } from '../audit/types.js';
import { AuditVerifier, type VerifyAuditOptions, verifyAudit } from '../audit/verify.js';
import { seededRandom as prng } from '../util/random.js';

export type AuditTamperKind =
  /** One field of one record changed, added or removed, the record's hash left alone. */
  | 'modification'
  /** One record changed and its own hash recomputed (anyone can: hashes need no key). */
  | 'forgery'
  /** One record changed and the whole chain after it recomputed: only a signed head tells. */
  | 'rewrite'
  /** A forged record (well-formed, linked to the one before, its hash right) put between two records. */
  | 'insertion'
  /** A copy of a record put right after it (a replay). */
  | 'duplication'
  | 'deletion'
  /** Two records swapped. */
  | 'reorder'
  /** The last records cut off together with the heads that signed them, as a truncated file. */
  | 'truncation';

export interface AuditTampering {
  kind: AuditTamperKind;
  /** What was done, for a person: `modification of record 412 (tool)`. */
  label: string;
  /** The stored records and heads after the change. */
  records: unknown[];
  heads: unknown[];
  /** Index of the first stored record that differs from the clean log (records before it are untouched). */
  from: number;
  /** The sequence number verification must report as broken. */
  brokenAt: number;
}

/** A clean log: what the log wrote and the heads it signed. */
export interface CleanAuditLog {
  records: readonly AuditRecord[];
  heads: readonly AuditHead[];
}

export interface AuditTamperOptions {
  /** Swaps of two records chosen at random, on top of every adjacent swap (default 1,000). */
  randomSwaps?: number;
  /** A chain rewrite starting at every this-many-th record (default 10). */
  rewriteEvery?: number;
  seed?: number;
}

/**
 * A varied stream of events for a test log: every kind, and across them every field the format has, so
 * each field kind can be tampered with.
 */
export function sampleAuditEvents(count: number): AuditEvent[] {
  return Array.from({ length: count }, (_, index): AuditEvent => {
    const n = index + 1;
    const base = {
      tenantId: `tenant-${n % 3}`,
      userId: `user-${n % 5}`,
      agent: 'researcher',
      runId: `run-${Math.ceil(n / 25)}`,
    };
    switch (n % 10) {
      case 3:
        return {
          ...base,
          kind: 'approval.decision',
          tool: 'send_email',
          toolCallId: `call-${n}`,
          args: { to: ['[email]'], subject: `report ${n}` },
          decision: n % 20 === 3 ? 'deny' : 'approve',
          decidedBy: 'ops@example',
          ...(n % 20 === 3 ? { reason: 'not today' } : {}),
        };
      case 6:
        return {
          ...base,
          kind: 'guard.trip',
          guard: 'pii',
          tool: 'web_fetch',
          reason: `credit_card in result ${n}`,
        };
      case 9:
        return { ...base, kind: 'run.end', status: n % 20 === 9 ? 'completed' : 'guardrail_tripped' };
      default:
        return {
          ...base,
          kind: 'tool.call',
          tool: 'web_search',
          toolCallId: `call-${n}`,
          args: { query: `topic ${n}`, page: n % 4, filters: { lang: 'en', safe: true } },
          outcome: n % 7 === 0 ? 'error' : 'ok',
          ...(n % 7 === 0 ? { errorCode: 'TOOL_FAILED' } : {}),
        };
    }
  });
}

/** Every single-record modification, forgery, rewrite, insertion, duplication, deletion, reorder and truncation. */
export function* auditTamperings(
  log: CleanAuditLog,
  options: AuditTamperOptions = {},
): Generator<AuditTampering> {
  const records = log.records;
  const n = records.length;
  const headSeqs = log.heads.map((head) => head.seq).sort((a, b) => a - b);
  const signedAt = (seq: number) => headSeqs.includes(seq);
  /** A change the chain cannot show is first seen by the next head: the record it signed no longer matches. */
  const headFrom = (seq: number) => headSeqs.find((each) => each >= seq) ?? n + 1;
  const replaced = (index: number, ...items: unknown[]) => [
    ...records.slice(0, index),
    ...items,
    ...records.slice(index + 1),
  ];
  const heads = [...log.heads];

  for (let index = 0; index < n; index++) {
    const record = records[index] as AuditRecord;
    const seq = index + 1;
    for (const [field, value] of Object.entries(record)) {
      yield {
        kind: 'modification',
        label: `modification of record ${seq} (${field})`,
        records: replaced(index, { ...record, [field]: changed(field, value) }),
        heads,
        from: index,
        brokenAt: seq,
      };
    }
    const optional = (['tenantId', 'userId', 'args', 'reason', 'errorCode'] as const).find(
      (field) => record[field] !== undefined,
    );
    if (optional) {
      const { [optional]: _removed, ...rest } = record;
      yield {
        kind: 'modification',
        label: `modification of record ${seq} (${optional} removed)`,
        records: replaced(index, rest),
        heads,
        from: index,
        brokenAt: seq,
      };
    }
    yield {
      kind: 'modification',
      label: `modification of record ${seq} (a field added)`,
      records: replaced(index, { ...record, note: 'added later' }),
      heads,
      from: index,
      brokenAt: seq,
    };
    yield {
      kind: 'forgery',
      label: `forgery of record ${seq} (agent changed, hash recomputed)`,
      records: replaced(index, rehashed({ ...record, agent: `${record.agent}-forged` })),
      heads,
      from: index,
      // The next record no longer links to it, unless a head signed it: that head no longer matches it.
      brokenAt: signedAt(seq) || seq === n ? headFrom(seq) : seq + 1,
    };
    yield {
      kind: 'insertion',
      label: `insertion before record ${seq}`,
      records: replaced(index, forged(seq, records[index - 1]?.hash ?? AUDIT_GENESIS), record),
      heads,
      from: index,
      // The displaced record comes next, with a number already seen; a head at this place sees it first.
      brokenAt: signedAt(seq) ? seq : seq + 1,
    };
    yield {
      kind: 'duplication',
      label: `duplication of record ${seq}`,
      records: replaced(index, record, record),
      heads,
      from: index + 1,
      brokenAt: seq + 1,
    };
    yield {
      kind: 'deletion',
      label: `deletion of record ${seq}`,
      records: replaced(index),
      heads,
      from: index,
      // The last record's deletion is a truncation: the head that signed it says so.
      brokenAt: seq,
    };
    if (seq < n) {
      const next = records[index + 1] as AuditRecord;
      yield {
        kind: 'reorder',
        label: `reorder of records ${seq} and ${seq + 1}`,
        records: [...records.slice(0, index), next, record, ...records.slice(index + 2)],
        heads,
        from: index,
        brokenAt: seq,
      };
    }
    const rewriteEvery = options.rewriteEvery ?? 10;
    if (seq % rewriteEvery === 0 || seq === 1 || seq === n) {
      yield {
        kind: 'rewrite',
        label: `rewrite of the chain from record ${seq}`,
        records: rewritten(records, index),
        heads,
        from: index,
        brokenAt: headFrom(seq),
      };
    }
  }
  yield {
    kind: 'insertion',
    label: `insertion after the last record ${n}`,
    records: [...records, forged(n + 1, records[n - 1]?.hash ?? AUDIT_GENESIS)],
    heads,
    from: n,
    // A valid next link: only "every record must be signed" catches it.
    brokenAt: n + 1,
  };
  const random = prng(options.seed ?? 7);
  for (let swap = 0; swap < (options.randomSwaps ?? 1_000) && n > 2; swap++) {
    const a = Math.floor(random() * n);
    let b = Math.floor(random() * (n - 1));
    if (b >= a) b++;
    const [low, high] = a < b ? [a, b] : [b, a];
    const swapped = [...records];
    swapped[low] = records[high];
    swapped[high] = records[low];
    yield {
      kind: 'reorder',
      label: `reorder of records ${low + 1} and ${high + 1}`,
      records: swapped,
      heads,
      from: low,
      brokenAt: low + 1,
    };
  }
  for (let cut = 1; cut <= n; cut++) {
    const kept = n - cut;
    yield {
      kind: 'truncation',
      label: `truncation of the last ${cut} record${cut === 1 ? '' : 's'}`,
      records: records.slice(0, kept),
      heads: log.heads.filter((head) => head.seq <= kept),
      from: kept,
      brokenAt: kept + 1,
    };
  }
}

export interface AuditTamperReport {
  tamperings: number;
  detected: number;
  /** Detected at the sequence number the tampering implies. */
  pinpointed: number;
  byKind: Record<string, { tamperings: number; detected: number }>;
  /** Tamperings also checked with `verifyAudit` on the whole log, and how many of those agreed. */
  fullChecks: number;
  fullAgreed: number;
  /** Up to 20 tamperings that were missed, misplaced or disagreed, for a person. */
  failures: string[];
}

/**
 * Runs every tampering through the verifier. Each is checked by forking a verifier that has already
 * checked the untouched records before it (the prefix is verified once, not once per tampering: otherwise
 * 20,000 tamperings of a 1,000-record log cost minutes); every `fullEvery`-th is also checked from scratch
 * with `verifyAudit`, and must agree.
 */
export function runAuditTamperings(
  log: CleanAuditLog,
  verify: VerifyAuditOptions,
  options: AuditTamperOptions & { fullEvery?: number } = {},
): AuditTamperReport {
  const clean = verifyAudit(log.records, log.heads, verify);
  if (!clean.ok) throw new Error(`the clean log does not verify: seq ${clean.brokenAt}: ${clean.reason}`);
  const checkpoints: AuditVerifier[] = [];
  const walker = new AuditVerifier(verify);
  for (const record of log.records) {
    checkpoints.push(walker.fork());
    walker.record(record);
  }
  checkpoints.push(walker.fork());
  const fullEvery = options.fullEvery ?? 97;
  const report: AuditTamperReport = {
    tamperings: 0,
    detected: 0,
    pinpointed: 0,
    byKind: {},
    fullChecks: 0,
    fullAgreed: 0,
    failures: [],
  };
  const fail = (line: string) => {
    if (report.failures.length < 20) report.failures.push(line);
  };
  for (const tampering of auditTamperings(log, options)) {
    const verifier = (checkpoints[tampering.from] as AuditVerifier).fork();
    for (let index = tampering.from; index < tampering.records.length; index++) {
      verifier.record(tampering.records[index]);
    }
    for (const head of tampering.heads) verifier.head(head);
    const verdict = verifier.result();
    report.byKind[tampering.kind] ??= { tamperings: 0, detected: 0 };
    const kind = report.byKind[tampering.kind] as { tamperings: number; detected: number };
    report.tamperings++;
    kind.tamperings++;
    if (verdict.ok) {
      fail(`${tampering.label}: not detected`);
    } else {
      report.detected++;
      kind.detected++;
      if (verdict.brokenAt === tampering.brokenAt) report.pinpointed++;
      else
        fail(
          `${tampering.label}: broken at ${verdict.brokenAt}, expected ${tampering.brokenAt} (${verdict.reason})`,
        );
    }
    if (report.tamperings % fullEvery === 0) {
      report.fullChecks++;
      const full = verifyAudit(tampering.records, tampering.heads, verify);
      const same =
        full.ok === verdict.ok &&
        (full.ok || verdict.ok || (full.brokenAt === verdict.brokenAt && full.reason === verdict.reason));
      if (same) report.fullAgreed++;
      else fail(`${tampering.label}: the full check disagrees with the forked one`);
    }
  }
  return report;
}

/** A different value of the same kind where there is one, so most edits still parse and only the hash tells. */
function changed(field: string, value: unknown): unknown {
  if (field === 'hash' || field === 'prevHash' || field === 'argsHash') {
    const text = value as string;
    return `${text[0] === '0' ? '1' : '0'}${text.slice(1)}`;
  }
  if (field === 'outcome') return value === 'ok' ? 'error' : 'ok';
  if (field === 'decision') return value === 'approve' ? 'deny' : 'approve';
  if (field === 'kind') return value === 'tool.call' ? 'guard.trip' : 'tool.call';
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value.slice(0, -1)}${value.endsWith('x') ? 'y' : 'x'}`;
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    return { ...value, tampered: true };
  return [value];
}

function rehashed(record: AuditRecord): AuditRecord {
  return { ...record, hash: recordHashOf(record) };
}

/** A record anyone could make: well-formed, linked, its hash right, but never written by the log. */
function forged(seq: number, prevHash: string): AuditRecord {
  return rehashed({
    v: 1,
    seq,
    kind: 'approval.decision',
    at: 1_700_000_000_000,
    agent: 'ops',
    runId: 'forged-run',
    tool: 'wire_money',
    toolCallId: 'forged-call',
    decision: 'approve',
    decidedBy: 'cfo@example',
    prevHash,
    hash: '',
  });
}

/** The chain recomputed from `from` on, after changing that record: every link right, every hash new. */
function rewritten(records: readonly AuditRecord[], from: number): AuditRecord[] {
  const out = records.slice(0, from);
  let previous = records[from - 1]?.hash ?? AUDIT_GENESIS;
  for (let index = from; index < records.length; index++) {
    const original = records[index] as AuditRecord;
    const record = rehashed({
      ...original,
      ...(index === from ? { agent: `${original.agent}-rewritten` } : {}),
      prevHash: previous,
    });
    out.push(record);
    previous = record.hash;
  }
  return out;
}
