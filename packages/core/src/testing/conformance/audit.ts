import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readAudit, recordsAndHeads } from '../../audit/codec.js';
import { createAuditLog } from '../../audit/log.js';
import type { AuditEvent, AuditSink } from '../../audit/types.js';
import { verifyAudit } from '../../audit/verify.js';
import { BatonError } from '../../errors.js';

/**
 * One case of the audit sink conformance suite: every AuditSink implementation must pass them all. `open`
 * opens a sink on the case's own store (a fresh file, stream or array per case); calling it again opens
 * the same store anew, as a restarted process would.
 */
export interface AuditCase {
  name: string;
  run(open: () => AuditSink | Promise<AuditSink>): Promise<void>;
}

const keys = () => generateKeyPairSync('ed25519');

const call = (n: number, args: unknown = { query: `q${n}`, page: n }): AuditEvent => ({
  kind: 'tool.call',
  tenantId: 'acme',
  userId: 'u1',
  agent: 'researcher',
  runId: `run-${Math.floor(n / 10)}`,
  tool: 'web_search',
  toolCallId: `call-${n}`,
  args,
  outcome: n % 7 === 0 ? 'error' : 'ok',
  ...(n % 7 === 0 ? { errorCode: 'TOOL_FAILED' } : {}),
});

async function readBack(sink: AuditSink) {
  return recordsAndHeads(await readAudit(sink));
}

export const auditConformance: AuditCase[] = [
  {
    name: 'an empty store has no tail and reads as empty',
    async run(open) {
      const sink = await open();
      assert.equal(await sink.tail(), undefined);
      assert.deepEqual(await sink.readRaw(), []);
      await sink.close();
    },
  },
  {
    name: 'appends in order and reads back in order, exactly what was recorded',
    async run(open) {
      const sink = await open();
      const log = createAuditLog({ sink });
      const written = [];
      for (let n = 1; n <= 12; n++) written.push(await log.record(call(n)));
      await log.close();
      const { records, heads } = await readBack(await open());
      assert.deepEqual(records, written);
      assert.deepEqual(heads, [], 'no signing key, no heads');
      assert.deepEqual(
        records.map((record) => record.seq),
        written.map((_, index) => index + 1),
      );
      const verdict = verifyAudit(records, heads);
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.deepEqual(await (await open()).tail(), { seq: 12, hash: written[11]?.hash });
    },
  },
  {
    name: 'signs a head every N records and on close, in line with the records it signs',
    async run(open) {
      const { privateKey, publicKey } = keys();
      const sink = await open();
      const seen: number[] = [];
      const log = createAuditLog({
        sink,
        signingKey: privateKey,
        signEvery: 5,
        onHead: (h) => seen.push(h.seq),
      });
      for (let n = 1; n <= 12; n++) await log.record(call(n));
      await log.close();
      const entries = await readAudit(await open());
      assert.deepEqual(
        entries.map((entry) => ('head' in entry ? `h${entry.head.seq}` : `${entry.record.seq}`)),
        ['1', '2', '3', '4', '5', 'h5', '6', '7', '8', '9', '10', 'h10', '11', '12', 'h12'],
      );
      assert.deepEqual(seen, [5, 10, 12]);
      const { records, heads } = recordsAndHeads(entries);
      const verdict = verifyAudit(records, heads, { publicKey, requireSigned: true });
      assert.ok(verdict.ok && verdict.signedThrough === 12, JSON.stringify(verdict));
      assert.deepEqual(
        await (await open()).tail(),
        { seq: 12, hash: records[11]?.hash },
        'a head ends the tail',
      );
    },
  },
  {
    name: 'survives a reopen: a new log on the same store continues the chain',
    async run(open) {
      const { privateKey, publicKey } = keys();
      const first = createAuditLog({ sink: await open(), signingKey: privateKey });
      for (let n = 1; n <= 4; n++) await first.record(call(n));
      await first.close();
      const second = createAuditLog({ sink: await open(), signingKey: privateKey });
      const fifth = await second.record(call(5));
      assert.equal(fifth.seq, 5);
      for (let n = 6; n <= 8; n++) await second.record(call(n));
      await second.close();
      const { records, heads } = await readBack(await open());
      assert.equal(records[4]?.prevHash, records[3]?.hash);
      assert.deepEqual(
        heads.map((head) => head.seq),
        [4, 8],
      );
      const verdict = verifyAudit(records, heads, { publicKey, requireSigned: true });
      assert.ok(verdict.ok && verdict.records.length === 8, JSON.stringify(verdict));
    },
  },
  {
    name: 'concurrent records from one process keep the chain valid (the log serializes them)',
    async run(open) {
      const log = createAuditLog({ sink: await open() });
      const written = await Promise.all(
        Array.from({ length: 40 }, (_, index) => log.record(call(index + 1))),
      );
      await log.close();
      assert.deepEqual(
        written.map((record) => record.seq),
        written.map((_, index) => index + 1),
        'consecutive in call order',
      );
      const { records, heads } = await readBack(await open());
      assert.deepEqual(records, written);
      assert.ok(verifyAudit(records, heads).ok);
    },
  },
  {
    name: 'two logs on one store, racing: every record lands once and the chain never forks',
    async run(open) {
      const { privateKey, publicKey } = keys();
      const [a, b] = [
        createAuditLog({ sink: await open(), signingKey: privateKey, signEvery: 7 }),
        createAuditLog({ sink: await open(), signingKey: privateKey, signEvery: 7 }),
      ];
      const written = await Promise.all(
        Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? a : b).record(call(index + 1))),
      );
      await Promise.all([a.close(), b.close()]);
      const { records, heads } = await readBack(await open());
      assert.equal(records.length, 30);
      assert.deepEqual(
        new Set(records.map((record) => record.toolCallId)),
        new Set(written.map((record) => record.toolCallId)),
      );
      const verdict = verifyAudit(records, heads, { publicKey });
      assert.ok(verdict.ok, JSON.stringify(verdict));
    },
  },
  {
    name: 'an append after a stale tail is AUDIT_CONFLICT and stores nothing',
    async run(open) {
      const log = createAuditLog({ sink: await open() });
      const first = await log.record(call(1));
      await log.record(call(2));
      const sink = await open();
      const stale = { record: { ...first, seq: 2, prevHash: first.hash } };
      await assert.rejects(sink.append(stale, { seq: 1, hash: first.hash }), (error: unknown) =>
        BatonError.is(error, 'AUDIT_CONFLICT'),
      );
      await assert.rejects(
        sink.append(stale, undefined),
        (error: unknown) => BatonError.is(error, 'AUDIT_CONFLICT'),
        'an empty-store expectation on a store with records',
      );
      assert.equal((await sink.readRaw()).length, 2);
    },
  },
  {
    name: 'awkward arguments survive the round trip and hash the same whatever their key order',
    async run(open) {
      const log = createAuditLog({ sink: await open() });
      const args = { text: 'é✓😀'.repeat(4_000), nested: [[1, [2, [null]]], { z: 1, a: 2 }], empty: {} };
      const one = await log.record(call(1, args));
      const two = await log.record(
        call(2, { empty: {}, nested: [[1, [2, [null]]], { a: 2, z: 1 }], text: args.text }),
      );
      const three = await log.record({
        kind: 'run.end',
        agent: 'researcher',
        runId: 'run-0',
        status: 'completed',
      });
      await log.close();
      assert.equal(one.argsHash, two.argsHash);
      assert.equal(three.argsHash, undefined);
      const { records } = await readBack(await open());
      assert.deepEqual(records[0]?.args, args);
      assert.deepEqual(records, [one, two, three]);
      assert.ok(verifyAudit(records, []).ok);
    },
  },
];
