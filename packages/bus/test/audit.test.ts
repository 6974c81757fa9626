import { generateKeyPairSync } from 'node:crypto';
import { jetstreamNames, NatsBus, natsAuditSink, subjects } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { createAuditLog, readAudit, recordsAndHeads, splitAuditEntries, verifyAudit } from '@baton/core';
import { auditConformance } from '@baton/core/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: NatsServer;
const buses: NatsBus[] = [];
let bus: NatsBus;
let namespaces = 0;
/** Every case gets its own namespace, so its own stream. */
const freshNamespace = () => `au${process.pid}_${++namespaces}`;

async function connect(name: string): Promise<NatsBus> {
  const connected = await NatsBus.connect({ servers: server.url, name, reconnectTimeWaitMs: 100 });
  buses.push(connected);
  return connected;
}

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
  bus = await connect('audit');
});
afterAll(async () => {
  await Promise.all(buses.map((each) => each.close()));
  await server?.stop();
});

const toolCall = (n: number) => ({
  kind: 'tool.call' as const,
  tenantId: 'acme',
  agent: 'ops',
  runId: 'r1',
  tool: 'drop_table',
  toolCallId: `c${n}`,
  args: { table: `t${n}` },
  outcome: 'ok' as const,
});

describe('audit conformance: natsAuditSink', () => {
  for (const testCase of auditConformance) {
    it(testCase.name, () => {
      const namespace = freshNamespace();
      return testCase.run(() => natsAuditSink(bus, { namespace, timeoutMs: 3_000 }));
    });
  }
});

describe('natsAuditSink on the wire', () => {
  it('the stream denies delete and purge, keeps everything and says so in its config', async () => {
    const namespace = freshNamespace();
    const log = createAuditLog({ sink: natsAuditSink(bus, { namespace }) });
    for (let n = 1; n <= 3; n++) await log.record(toolCall(n));
    const stream = jetstreamNames.auditStream(namespace);
    const jsm = await jetstreamManager(bus.connection);
    const info = await jsm.streams.info(stream);
    expect(info.config).toMatchObject({
      subjects: [`baton.${namespace}.audit`],
      deny_delete: true,
      deny_purge: true,
      max_age: 0,
      discard: 'new',
    });
    // Erasing (overwrite) and plain deletion, the whole stream or the subject: the server refuses each.
    await expect(jsm.streams.deleteMessage(stream, 2)).rejects.toThrow('message delete not permitted');
    await expect(jsm.streams.deleteMessage(stream, 3, false)).rejects.toThrow('message delete not permitted');
    await expect(jsm.streams.purge(stream)).rejects.toThrow('stream purge not permitted');
    await expect(jsm.streams.purge(stream, { filter: subjects.audit(namespace) })).rejects.toThrow(
      'stream purge not permitted',
    );
    await expect(jsm.streams.purge(stream, { keep: 1 })).rejects.toThrow('stream purge not permitted');
    // Nor can the protection be lifted afterwards.
    await expect(jsm.streams.update(stream, { ...info.config, deny_delete: false })).rejects.toThrow(
      'can not cancel deny message deletes',
    );
    await expect(jsm.streams.update(stream, { ...info.config, deny_purge: false })).rejects.toThrow(
      'can not cancel deny purge',
    );
    expect((await jsm.streams.info(stream)).state.messages).toBe(3);
    const { records, heads } = recordsAndHeads(await readAudit(natsAuditSink(bus, { namespace })));
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(verifyAudit(records, heads).ok).toBe(true);
  });

  it('refuses an existing stream of that name that would let entries be deleted', async () => {
    const namespace = freshNamespace();
    const jsm = await jetstreamManager(bus.connection);
    await jsm.streams.add({
      name: jetstreamNames.auditStream(namespace),
      subjects: [subjects.audit(namespace)],
    });
    await expect(natsAuditSink(bus, { namespace }).tail()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('two writers on two connections: one chain, each record once, and both heads verify', async () => {
    const namespace = freshNamespace();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const [a, b] = await Promise.all([connect('writer-a'), connect('writer-b')]);
    const logs = [a, b].map((each) =>
      createAuditLog({ sink: natsAuditSink(each, { namespace }), signingKey: privateKey, signEvery: 10 }),
    );
    await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        (logs[index % 2] as (typeof logs)[number]).record(toolCall(index)),
      ),
    );
    await Promise.all(logs.map((log) => log.close()));
    const raw = await natsAuditSink(bus, { namespace }).readRaw();
    const { records, heads } = splitAuditEntries(raw);
    expect(records).toHaveLength(40);
    const verdict = verifyAudit(records, heads, { publicKey });
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
    expect(new Set(records.map((record) => (record as { toolCallId: string }).toolCallId)).size).toBe(40);
  });

  it('a message published around the sink is caught: by the next append (conflict) and by verify', async () => {
    const namespace = freshNamespace();
    const log = createAuditLog({ sink: natsAuditSink(bus, { namespace }) });
    await log.record(toolCall(1));
    await jetstream(bus.connection).publish(subjects.audit(namespace), JSON.stringify({ forged: true }));
    await expect(log.record(toolCall(2))).rejects.toMatchObject({ code: 'AUDIT_INVALID' });
    const { records, heads } = splitAuditEntries(await natsAuditSink(bus, { namespace }).readRaw());
    expect(verifyAudit(records, heads)).toMatchObject({ ok: false, brokenAt: 2, problem: 'invalid' });
  });

  it('reads a long log in order (several batches)', async () => {
    const namespace = freshNamespace();
    const log = createAuditLog({ sink: natsAuditSink(bus, { namespace }), signEvery: 100 });
    const written = [];
    for (let n = 1; n <= 1_200; n++) written.push(await log.record(toolCall(n)));
    const { records } = recordsAndHeads(await readAudit(natsAuditSink(bus, { namespace })));
    expect(records).toEqual(written);
  }, 120_000);
});
