import { jetstreamNames, NatsBus, natsApprovals, natsJournal, subjects } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { BatonError, type JournalRecord } from '@baton/core';
import { approvalsConformance, journalConformance } from '@baton/core/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: NatsServer;
const buses: NatsBus[] = [];
let bus: NatsBus;
let namespaces = 0;
/** Every case gets its own namespace, so its own stream and bucket. */
const freshNamespace = () => `jc${process.pid}_${++namespaces}`;
/** Small streams: the server reserves max_bytes per stream up front. */
const LIMITS = { maxBytes: 16 * 1024 * 1024, timeoutMs: 3_000 };

async function connect(name: string, url = server.url): Promise<NatsBus> {
  const connected = await NatsBus.connect({ servers: url, name, reconnectTimeWaitMs: 100 });
  buses.push(connected);
  return connected;
}

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
  bus = await connect('journal-conformance');
});
afterAll(async () => {
  await Promise.all(buses.map((each) => each.close()));
  await server?.stop();
});

describe('journal conformance: natsJournal', () => {
  for (const testCase of journalConformance) {
    it(testCase.name, () => testCase.run(natsJournal(bus, { namespace: freshNamespace(), ...LIMITS })));
  }
});

describe('approvals conformance: natsApprovals', () => {
  for (const testCase of approvalsConformance) {
    it(testCase.name, () => testCase.run(natsApprovals(bus, { namespace: freshNamespace() })));
  }
});

const step = (n: number): JournalRecord => ({
  type: 'model.step',
  at: Date.now(),
  elapsedMs: n,
  step: n,
  response: { text: `step ${n}`, toolCalls: [], model: 'm', finishReason: 'stop' },
});

describe('natsJournal on the wire', () => {
  it('two connections: the second opener fences the first, whose next append is JOURNAL_CONFLICT', async () => {
    const namespace = freshNamespace();
    const [busA, busB] = await Promise.all([connect('writer-a'), connect('writer-b')]);
    const journalA = natsJournal(busA, { namespace, ...LIMITS });
    const journalB = natsJournal(busB, { namespace, ...LIMITS });
    const a = await journalA.open('run1', 'a');
    await a.append(step(1));
    await a.append(step(2));
    const b = await journalB.open('run1', 'b');
    expect(b.existing.map((entry) => entry.seq)).toEqual([1, 2]);
    // A's next record would be seq 3, the same Nats-Msg-Id as B's run.opened: it must not pass as a duplicate.
    await expect(a.append(step(3))).rejects.toMatchObject({ code: 'JOURNAL_CONFLICT' });
    await expect(a.append(step(4))).rejects.toMatchObject({ code: 'JOURNAL_CONFLICT' });
    await b.append(step(3));
    expect((await journalA.read('run1')).map((entry) => [entry.seq, entry.record.type])).toEqual([
      [1, 'model.step'],
      [2, 'model.step'],
      [3, 'run.opened'],
      [4, 'model.step'],
    ]);
    // A writer whose connection died leaves nothing behind that could block the next open.
    await busB.close();
    const c = await journalA.open('run1', 'c');
    expect(c.existing).toHaveLength(4);
    await c.append(step(5));
  });

  it('reads many records (the consumer path) and lists runs newest first', async () => {
    const journal = natsJournal(bus, { namespace: freshNamespace(), ...LIMITS });
    const writer = await journal.open('long', 'w');
    for (let n = 1; n <= 40; n++) await writer.append(step(n));
    const other = await journal.open('short', 'w');
    await other.append(step(1));
    const reopened = await journal.open('long', 'again');
    expect(reopened.existing.map((entry) => entry.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await journal.runs()).toEqual(['long', 'short']);
    expect(await journal.runs({ limit: 1 })).toEqual(['long']);
  });

  it('a republished record (same Nats-Msg-Id) is stored once', async () => {
    const namespace = freshNamespace();
    const journal = natsJournal(bus, { namespace, ...LIMITS });
    const writer = await journal.open('dedupe', 'w');
    const entry = await writer.append(step(1));
    const js = jetstream(bus.connection);
    const ack = await js.publish(
      subjects.journal(namespace, 'dedupe'),
      JSON.stringify({ v: 1, runId: 'dedupe', seq: 1, record: step(1) }),
      { msgID: 'dedupe:1' },
    );
    expect(ack.duplicate).toBe(true);
    expect(await journal.read('dedupe')).toEqual([entry]);
  });

  it('a record that fails validation is JOURNAL_INVALID naming the stream and sequence', async () => {
    const namespace = freshNamespace();
    const journal = natsJournal(bus, { namespace, ...LIMITS });
    await (await journal.open('bad', 'w')).append(step(1));
    const ack = await jetstream(bus.connection).publish(
      subjects.journal(namespace, 'bad'),
      JSON.stringify({ v: 1, runId: 'bad', seq: 2, record: { type: 'model.step', step: 'two' } }),
    );
    const error = await journal.read('bad').catch((caught: unknown) => caught);
    expect(BatonError.is(error, 'JOURNAL_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`${jetstreamNames.journalStream(namespace)} seq ${ack.seq}`);
    await expect(journal.open('bad', 'w2')).rejects.toMatchObject({ code: 'JOURNAL_INVALID' });
  });

  it('the stream has bounded retention: max age and max bytes', async () => {
    const namespace = freshNamespace();
    const journal = natsJournal(bus, { namespace, maxAgeMs: 60 * 60 * 1000, maxBytes: 8 * 1024 * 1024 });
    await (await journal.open('r', 'w')).append(step(1));
    const jsm = await jetstreamManager(bus.connection);
    const info = await jsm.streams.info(jetstreamNames.journalStream(namespace));
    expect(info.config.max_age).toBe(60 * 60 * 1000 * 1_000_000);
    expect(info.config.max_bytes).toBe(8 * 1024 * 1024);
    expect(info.config.subjects).toEqual([`baton.${namespace}.journal.*`]);
  });

  it('a server that cannot be reached is JOURNAL_UNAVAILABLE within the timeout, never a hang', async () => {
    const own = await startNatsServer({ jetstream: true });
    try {
      const ownBus = await connect('doomed', own.url);
      const journal = natsJournal(ownBus, { namespace: freshNamespace(), ...LIMITS, timeoutMs: 1_500 });
      const writer = await journal.open('r', 'w');
      await writer.append(step(1));
      await own.kill('SIGKILL');
      const started = Date.now();
      const error = await writer.append(step(2)).catch((caught: unknown) => caught);
      expect(BatonError.is(error, 'JOURNAL_UNAVAILABLE')).toBe(true);
      expect((error as BatonError).retryable).toBe(true);
      // Its 1.5 s limit, plus room for timers that fire late with both cores busy: a hang never ends.
      expect(Date.now() - started).toBeLessThan(10_000);
      await expect(journal.read('r')).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
      await ownBus.close();
      await expect(journal.open('r', 'w')).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
    } finally {
      await own.stop();
    }
  });
});

describe('natsApprovals on the wire', () => {
  it('ten deciders on ten connections: exactly one wins, the others get APPROVAL_DECIDED', async () => {
    const namespace = freshNamespace();
    const stores = await Promise.all(
      Array.from({ length: 10 }, async (_, index) =>
        natsApprovals(await connect(`decider-${index}`), { namespace }),
      ),
    );
    const asker = natsApprovals(bus, { namespace });
    const request = {
      runId: 'contested',
      toolCallId: 'call with spaces/and:colons',
      agent: 'ops',
      tool: 'drop_table',
      risk: 'destructive' as const,
      args: { table: 'users' },
      reason: 'risk' as const,
      requestedAt: Date.now(),
    };
    await asker.request(request);
    // Every store has its bucket open before the race starts, so they really decide at once.
    await Promise.all(stores.map((store) => store.get(request.runId, request.toolCallId)));
    const results = await Promise.allSettled(
      stores.map((store, index) =>
        store.decide(request.runId, request.toolCallId, { decision: 'approve' }, `d${index}`),
      ),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect(BatonError.is(result.reason, 'APPROVAL_DECIDED')).toBe(true);
    }
    const final = await asker.get(request.runId, request.toolCallId);
    expect(final?.decidedBy).toBe(
      (winners[0] as PromiseFulfilledResult<{ decidedBy?: string }>).value.decidedBy,
    );
    // The bucket keeps the request and the decision, so both can be audited.
    const kv = await new Kvm(bus.connection).open(jetstreamNames.approvalsBucket(namespace));
    expect((await kv.status()).history).toBeGreaterThanOrEqual(5);
    const revisions = [];
    for await (const entry of await kv.history()) revisions.push(entry.json<{ status: string }>().status);
    expect(revisions).toEqual(['pending', 'approved']);
  });

  it('a decision made on another connection reaches a watcher', async () => {
    const namespace = freshNamespace();
    const watcher = natsApprovals(bus, { namespace });
    const decider = natsApprovals(await connect('remote-decider'), { namespace });
    await watcher.request({
      runId: 'watched',
      toolCallId: 'c1',
      agent: 'ops',
      tool: 't',
      risk: 'write',
      args: {},
      reason: 'risk',
      requestedAt: Date.now(),
    });
    const seen = new Promise<string>((resolve) => {
      const stop = watcher.watch?.({ runId: 'watched' }, (record) => {
        if (record.status === 'pending') return;
        stop?.();
        resolve(`${record.status} by ${record.decidedBy}`);
      });
    });
    await decider.decide('watched', 'c1', { decision: 'deny', reason: 'no' }, 'eve');
    await expect(seen).resolves.toBe('denied by eve');
  });
});
