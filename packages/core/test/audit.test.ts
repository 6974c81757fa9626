import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUDIT_GENESIS,
  type AuditHead,
  type AuditRecord,
  auditKeyId,
  BatonError,
  chainRecord,
  createAuditLog,
  fileAuditSink,
  memoryAuditSink,
  readAudit,
  recordHashOf,
  recordsAndHeads,
  splitAuditEntries,
  verifyAudit,
} from '@baton/core';
import { auditConformance, runAuditTamperings, sampleAuditEvents } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
function tempFile(name = 'audit.jsonl'): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-audit-'));
  dirs.push(dir);
  return join(dir, name);
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('audit conformance: memoryAuditSink', () => {
  for (const testCase of auditConformance) {
    it(testCase.name, () => {
      const lines: string[] = [];
      return testCase.run(() => memoryAuditSink({ lines }));
    });
  }
});

describe('audit conformance: fileAuditSink', () => {
  for (const testCase of auditConformance) {
    it(testCase.name, () => {
      const path = tempFile();
      return testCase.run(() => fileAuditSink({ path }));
    });
  }
});

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const toolCall = {
  kind: 'tool.call',
  agent: 'ops',
  runId: 'r1',
  tool: 'drop_table',
  toolCallId: 'c1',
  args: { table: 'users' },
  outcome: 'denied',
} as const;

describe('audit records', () => {
  it('chain from the genesis value; hash covers every field but itself; argsHash ignores key order', () => {
    const first = chainRecord({ ...toolCall, at: 1 }, undefined);
    expect(first).toMatchObject({ v: 1, seq: 1, prevHash: AUDIT_GENESIS, at: 1 });
    expect(first.hash).toBe(recordHashOf(first));
    const second = chainRecord({ ...toolCall, args: { b: 2, a: [1, { d: 4, c: 3 }] } }, first);
    const same = chainRecord({ ...toolCall, args: { a: [1, { c: 3, d: 4 }], b: 2 } }, first);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(second.argsHash).toBe(same.argsHash);
    // What is hashed is what is stored: JSON, not the live value.
    const dated = chainRecord({ ...toolCall, args: { when: new Date(0), gone: undefined } }, undefined);
    expect(dated.args).toEqual({ when: '1970-01-01T00:00:00.000Z' });
    expect(verifyAudit([JSON.parse(JSON.stringify(dated))], []).ok).toBe(true);
  });

  it('refuses events that say too little, carry unknown fields or arguments that are not JSON', () => {
    const refused = (event: unknown) => {
      try {
        chainRecord(event as never, undefined);
      } catch (error) {
        return BatonError.is(error, 'INPUT_INVALID');
      }
      return false;
    };
    expect(refused({ ...toolCall, tool: undefined })).toBe(true);
    expect(refused({ kind: 'guard.trip', agent: 'a', runId: 'r', guard: 'pii' })).toBe(true);
    expect(refused({ ...toolCall, password: 'hunter2' })).toBe(true);
    expect(refused({ ...toolCall, args: { big: 1n } })).toBe(true);
    expect(refused({ ...toolCall, kind: 'memory.wipe' })).toBe(true);
    expect(refused({ kind: 'run.end', agent: 'a', runId: 'r', status: 'completed' })).toBe(false);
  });

  it('keys: PEM or KeyObject, ed25519 only, and errors never show the key', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(auditKeyId(pem)).toBe(auditKeyId(publicKey));
    expect(auditKeyId(publicPem)).toMatch(/^[0-9a-f]{16}$/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => createAuditLog({ sink: memoryAuditSink(), signingKey: rsa })).toThrow(/ed25519/);
    expect(() => createAuditLog({ sink: memoryAuditSink(), signingKey: publicKey })).toThrow(/private key/);
    const garbage = '-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRETSECRET\n-----END PRIVATE KEY-----\n';
    const error = (() => {
      try {
        createAuditLog({ sink: memoryAuditSink(), signingKey: garbage });
      } catch (caught) {
        return caught as BatonError;
      }
    })();
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(JSON.stringify(error?.toJSON())).not.toContain('SECRETSECRET');
  });

  it('record() after close() is refused; close() twice writes one head', async () => {
    const sink = memoryAuditSink();
    const log = createAuditLog({ sink, signingKey: privateKey });
    await log.record(toolCall);
    await log.close();
    await log.close();
    await expect(log.record(toolCall)).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(sink.lines.filter((line) => line.startsWith('{"head"'))).toHaveLength(1);
  });
});

interface Log {
  records: AuditRecord[];
  heads: AuditHead[];
  latest: AuditHead;
}

async function thousand(): Promise<Log> {
  const sink = memoryAuditSink();
  let latest: AuditHead | undefined;
  const log = createAuditLog({
    sink,
    signingKey: privateKey,
    onHead: (head) => {
      latest = head;
    },
  });
  for (const event of sampleAuditEvents(1_000)) await log.record(event);
  await log.close();
  const { records, heads } = recordsAndHeads(await readAudit(sink));
  return { records, heads, latest: latest as AuditHead };
}

describe('verifyAudit on a 1,000-record log', () => {
  let log: Log;
  beforeAll(async () => {
    log = await thousand();
  });
  const verify = (records: unknown[], heads: unknown[] = log.heads, latest = false) =>
    verifyAudit(records, heads, { publicKey, ...(latest ? { latestHead: log.latest } : {}) });
  const with412 = (change: (record: AuditRecord) => unknown) =>
    log.records.map((record) => (record.seq === 412 ? change(record) : record));

  it('the clean log verifies, signed through its last record (a head every 100 and on close)', () => {
    expect(log.heads.map((head) => head.seq)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    const verdict = verifyAudit(log.records, log.heads, {
      publicKey,
      latestHead: log.latest,
      requireSigned: true,
    });
    expect(verdict).toMatchObject({ ok: true, signedThrough: 1_000 });
  });

  it('names the first broken link, in words', () => {
    expect(verify(with412((record) => ({ ...record, agent: 'someone-else' })))).toEqual({
      ok: false,
      brokenAt: 412,
      problem: 'modified',
      reason: 'hash does not match (record modified)',
    });
    expect(verify(with412((record) => ({ ...record, at: 'yesterday' })))).toMatchObject({
      brokenAt: 412,
      problem: 'invalid',
      reason:
        'not a valid audit record (at: Invalid input: expected number, received string) (record modified)',
    });
    const deleted = log.records.filter((record) => record.seq !== 412);
    expect(verify(deleted)).toMatchObject({ brokenAt: 412, reason: 'record 412 is missing (deleted)' });
    const swapped = [...log.records];
    [swapped[411], swapped[599]] = [swapped[599] as AuditRecord, swapped[411] as AuditRecord];
    expect(verify(swapped)).toMatchObject({
      brokenAt: 412,
      problem: 'reordered',
      reason: 'found record 600 where 412 belongs (records reordered)',
    });
    const copied = [...log.records.slice(0, 412), log.records[10], ...log.records.slice(412)];
    expect(verify(copied)).toMatchObject({
      brokenAt: 413,
      problem: 'inserted',
      reason: 'found a second record 11 where 413 belongs (inserted)',
    });
    const forged = with412((record) => {
      const changed = { ...record, decision: 'approve' as const, decidedBy: 'mallory' };
      return { ...changed, hash: recordHashOf(changed) };
    });
    expect(verify(forged)).toMatchObject({ brokenAt: 413, problem: 'unlinked' });
  });

  it('tail truncation: seen by a head left in the log, or by the latest head kept elsewhere, or a count', () => {
    const cut = log.records.slice(0, 950);
    expect(verify(cut)).toMatchObject({
      brokenAt: 951,
      problem: 'truncated',
      reason: 'the log ends at seq 950 but seq 1000 was signed (tail truncated)',
    });
    const cutHeads = log.heads.filter((head) => head.seq <= 950);
    expect(verify(cut, cutHeads).ok).toBe(true);
    expect(verify(cut, cutHeads, true)).toMatchObject({ brokenAt: 951, problem: 'truncated' });
    expect(verifyAudit(cut, cutHeads, { publicKey, minRecords: 1_000 })).toMatchObject({
      brokenAt: 951,
      reason: 'the log ends at seq 950 but 1000 records were expected (tail truncated)',
    });
    expect(verify([], [], true)).toMatchObject({ brokenAt: 1, problem: 'truncated' });
  });

  it('a recomputed chain is caught by the next signed head; a forged head by its signature', () => {
    const rewritten: AuditRecord[] = log.records.slice(0, 349);
    for (const record of log.records.slice(349)) {
      const next = {
        ...record,
        agent: record.seq === 350 ? 'mallory' : record.agent,
        prevHash: (rewritten.at(-1) as AuditRecord).hash,
      };
      rewritten.push({ ...next, hash: recordHashOf(next) });
    }
    expect(verifyAudit(rewritten, []).ok).toBe(true);
    expect(verify(rewritten)).toEqual({
      ok: false,
      brokenAt: 400,
      problem: 'rewritten',
      reason: 'the head signed at seq 400 does not match record 400 (one of records 301–400 was rewritten)',
    });
    const heads = log.heads.map((head) =>
      head.seq === 400 ? { ...head, hash: rewritten[399]?.hash } : head,
    );
    expect(verify(rewritten, heads)).toMatchObject({ brokenAt: 400, problem: 'bad_signature' });
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifyAudit(log.records, log.heads, { publicKey: other })).toMatchObject({
      brokenAt: 100,
      problem: 'bad_signature',
    });
    expect(verifyAudit(log.records, log.heads, { publicKey: [other, publicKey] }).ok).toBe(true);
  });

  it('every single-record modification (each field), insertion, deletion, reorder and truncation: all detected at the right seq', () => {
    // Forked verifiers do the bulk; every 499th tampering is also checked by a full verifyAudit.
    const report = runAuditTamperings(
      log,
      { publicKey, latestHead: log.latest, requireSigned: true },
      { fullEvery: 499 },
    );
    expect(report.failures).toEqual([]);
    expect(report.detected).toBe(report.tamperings);
    expect(report.pinpointed).toBe(report.tamperings);
    expect(report.fullAgreed).toBe(report.fullChecks);
    expect(report.fullChecks).toBeGreaterThan(40);
    // Every record × every field it has, plus a removed and an added field.
    expect(report.byKind.modification?.tamperings).toBeGreaterThan(15_000);
    for (const kind of ['insertion', 'deletion', 'duplication', 'forgery', 'truncation']) {
      expect(report.byKind[kind]?.tamperings, kind).toBeGreaterThanOrEqual(1_000);
    }
    expect(report.byKind.reorder?.tamperings).toBe(1_999);
  }, 120_000);

  it('without signed heads the chain still catches everything but the end: cuts, appends, recomputed chains', () => {
    // What the chain alone can tell does not depend on the length: the first 200 records show it faster.
    const report = runAuditTamperings(
      { records: log.records.slice(0, 200), heads: [] },
      {},
      { randomSwaps: 100 },
    );
    // Everything detected is detected at the right seq.
    expect(report.pinpointed).toBe(report.detected);
    // Detected everywhere except at the end of the chain, where nothing but a signature or a count can tell:
    // the last record forged, a record appended, the last record deleted.
    for (const [kind, atTheEnd] of [
      ['modification', 0],
      ['duplication', 0],
      ['reorder', 0],
      ['forgery', 1],
      ['insertion', 1],
      ['deletion', 1],
    ] as const) {
      const { tamperings, detected } = report.byKind[kind] ?? { tamperings: 0, detected: 0 };
      expect(detected, kind).toBe(tamperings - atTheEnd);
    }
    // Cuts of the tail and chains recomputed from a change on: a valid chain, so invisible without heads.
    expect(report.byKind.truncation?.detected).toBe(0);
    expect(report.byKind.rewrite?.detected).toBe(0);
  }, 120_000);
});

describe('fileAuditSink: the file itself', () => {
  it('one line per record, heads as {"head": ...} lines; verify reads a hand-edited line as broken', async () => {
    const path = tempFile();
    const log = createAuditLog({ sink: fileAuditSink({ path }), signingKey: privateKey, signEvery: 2 });
    for (let n = 1; n <= 3; n++) await log.record({ ...toolCall, toolCallId: `c${n}` });
    await log.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => Object.keys(JSON.parse(line))[0])).toEqual(['v', 'v', 'head', 'v', 'head']);
    lines[3] = (lines[3] as string).replace('"drop_table"', '"select_1"');
    await writeFile(path, `${lines.join('\n')}\n`);
    const { records, heads } = splitAuditEntries(await fileAuditSink({ path }).readRaw());
    expect(verifyAudit(records, heads, { publicKey })).toMatchObject({ brokenAt: 3, problem: 'modified' });
    lines[3] = '{not json';
    await writeFile(path, `${lines.join('\n')}\n`);
    const again = splitAuditEntries(await fileAuditSink({ path }).readRaw());
    expect(verifyAudit(again.records, again.heads)).toMatchObject({
      brokenAt: 3,
      reason: 'not JSON (record modified)',
    });
    await expect(readAudit(fileAuditSink({ path }))).rejects.toMatchObject({ code: 'AUDIT_INVALID' });
    // A log whose last entry is unreadable is not extended: the next record would link to nothing known.
    lines.splice(4);
    await writeFile(path, `${lines.join('\n')}\n`);
    await expect(createAuditLog({ sink: fileAuditSink({ path }) }).record(toolCall)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
    });
  });

  it('an unterminated last line (an append cut short) is not an entry, and the next append removes it', async () => {
    const path = tempFile();
    const log = createAuditLog({ sink: fileAuditSink({ path }) });
    await log.record(toolCall);
    await appendFile(path, '{"v":1,"seq":2,"kind":"tool.c');
    expect(await fileAuditSink({ path }).readRaw()).toHaveLength(1);
    const next = createAuditLog({ sink: fileAuditSink({ path }) });
    expect((await next.record(toolCall)).seq).toBe(2);
    const { records, heads } = splitAuditEntries(await fileAuditSink({ path }).readRaw());
    expect(verifyAudit(records, heads).ok).toBe(true);
    expect((await readFile(path, 'utf8')).endsWith('\n')).toBe(true);
  });

  it('a long last line (bigger than one read of the tail) is found whole', async () => {
    const path = tempFile();
    const log = createAuditLog({ sink: fileAuditSink({ path }) });
    await log.record(toolCall);
    const big = await log.record({ ...toolCall, args: { blob: 'x'.repeat(200_000) } });
    expect(await fileAuditSink({ path }).tail()).toEqual({ seq: 2, hash: big.hash });
    expect((await createAuditLog({ sink: fileAuditSink({ path }) }).record(toolCall)).prevHash).toBe(
      big.hash,
    );
  });
});
