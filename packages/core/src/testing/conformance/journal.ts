import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BatonError } from '../../errors.js';
import type { JournalRecord, RunJournal } from '../../journal/types.js';

/** One case of the journal conformance suite: every RunJournal implementation must pass them all. */
export interface JournalCase {
  name: string;
  run(journal: RunJournal): Promise<void>;
}

const runId = () => `run-${randomBytes(6).toString('hex')}`;

const started = (name = 'agent'): JournalRecord => ({
  type: 'run.started',
  at: Date.now(),
  kind: 'agent',
  name,
  configHash: 'h1',
  input: { topic: 'x', nested: { list: [1, 'two', null], unicode: 'é✓😀' } },
});

const step = (n: number): JournalRecord => ({
  type: 'model.step',
  at: Date.now(),
  elapsedMs: n * 10,
  step: n,
  response: {
    text: `step ${n}`,
    toolCalls: [{ id: `c${n}`, name: 'lookup', arguments: { q: n } }],
    model: 'm',
    finishReason: 'tool-calls',
    usage: { inputTokens: 10, outputTokens: 5 },
  },
});

async function expectConflict(work: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(work, (error: unknown) => BatonError.is(error, 'JOURNAL_CONFLICT'), what);
}

export const journalConformance: JournalCase[] = [
  {
    name: 'appends in order and reads back exactly what was written, with 1-based sequence numbers',
    async run(journal) {
      const id = runId();
      const writer = await journal.open(id, 'w1');
      assert.deepEqual(writer.existing, []);
      const records = [started(), step(1), step(2)];
      for (const record of records) await writer.append(record);
      const read = await journal.read(id);
      assert.deepEqual(
        read.map((entry) => entry.seq),
        [1, 2, 3],
      );
      assert.deepEqual(
        read.map((entry) => entry.record),
        records,
      );
      assert.ok(read.every((entry) => entry.runId === id));
    },
  },
  {
    name: 'an unknown run reads as empty',
    async run(journal) {
      assert.deepEqual(await journal.read(runId()), []);
    },
  },
  {
    name: 'runs are separate: one run never sees another run’s records',
    async run(journal) {
      const [a, b] = [runId(), runId()];
      const wa = await journal.open(a, 'w');
      const wb = await journal.open(b, 'w');
      await wa.append(started('a'));
      await wb.append(started('b'));
      await wb.append(step(1));
      assert.equal((await journal.read(a)).length, 1);
      assert.equal((await journal.read(b)).length, 2);
    },
  },
  {
    name: 'a second writer sees what is there, and fences the first off (single writer per run)',
    async run(journal) {
      const id = runId();
      const first = await journal.open(id, 'first');
      await first.append(started());
      await first.append(step(1));
      const second = await journal.open(id, 'second');
      assert.deepEqual(
        second.existing.map((entry) => entry.record.type),
        ['run.started', 'model.step'],
      );
      await second.append(step(2));
      await expectConflict(first.append(step(99)), 'the fenced writer cannot append');
      const read = await journal.read(id);
      assert.ok(
        read.every((entry) => entry.record.type !== 'model.step' || entry.record.step !== 99),
        'the fenced record is not there',
      );
      assert.deepEqual(
        read.map((entry) => entry.seq),
        read.map((_, index) => index + 1),
        'no gaps in the sequence',
      );
    },
  },
  {
    name: 'two writers racing on a new run: at most one of their first appends survives in each position',
    async run(journal) {
      const id = runId();
      const [a, b] = await Promise.all([journal.open(id, 'a'), journal.open(id, 'b')]);
      const results = await Promise.allSettled([a.append(started('a')), b.append(started('b'))]);
      const ok = results.filter((result) => result.status === 'fulfilled').length;
      assert.ok(ok >= 1, 'one writer wins');
      const read = await journal.read(id);
      assert.deepEqual(
        read.map((entry) => entry.seq),
        read.map((_, index) => index + 1),
      );
      // Whoever lost is fenced for good: it cannot slip a record in later.
      const losers = [a, b].filter((_, index) => results[index]?.status === 'rejected');
      for (const loser of losers) await expectConflict(loser.append(step(1)), 'a loser stays fenced');
    },
  },
  {
    name: 'lists the runs it holds, newest first',
    async run(journal) {
      const ids = [runId(), runId(), runId()];
      for (const id of ids) {
        const writer = await journal.open(id, 'w');
        await writer.append(started());
      }
      const listed = await journal.runs({ limit: 1_000 });
      for (const id of ids) assert.ok(listed.includes(id), `lists ${id}`);
      assert.ok(listed.indexOf(ids[2] as string) < listed.indexOf(ids[0] as string), 'newest first');
    },
  },
  {
    name: 'big and awkward values survive the round trip (64 KiB text, unicode, nested arrays)',
    async run(journal) {
      const id = runId();
      const writer = await journal.open(id, 'w');
      const record: JournalRecord = {
        type: 'tool.outcome',
        at: Date.now(),
        elapsedMs: 1,
        step: 1,
        toolCallId: 'c1',
        tool: 'read',
        args: { path: '/x' },
        ok: true,
        data: { text: 'é'.repeat(32 * 1024), list: [[1, [2, [3]]]] },
        content: '<tool_result>…</tool_result>',
        durationMs: 3.5,
      };
      await writer.append(record);
      assert.deepEqual((await journal.read(id))[0]?.record, record);
    },
  },
  {
    name: 'a conditional open (ifLastSeq) is refused once the run moved on, and then fences no one',
    async run(journal) {
      const id = runId();
      const first = await journal.open(id, 'w1');
      await first.append(started());
      const seen = (await journal.read(id)).at(-1)?.seq ?? 0;
      await first.append(step(1));
      await expectConflict(
        journal.open(id, 'w2', { ifLastSeq: seen }),
        'a conditional open of a run that moved on',
      );
      // The refused open took nothing over: the first writer goes on.
      await first.append(step(2));
      const current = (await journal.read(id)).at(-1)?.seq ?? 0;
      const second = await journal.open(id, 'w3', { ifLastSeq: current });
      assert.equal(second.existing.length, current);
      await expectConflict(
        first.append(step(3)),
        'the first writer, after a conditional open that succeeded',
      );
      await second.append(step(3));
    },
  },
  {
    name: 'a fresh open of a new run writes it; of a run with records, it is refused and fences no one',
    async run(journal) {
      const id = runId();
      const fresh = await journal.open(id, 'w1', { fresh: true });
      assert.equal(fresh.existing.length, 0);
      await fresh.append(started());
      await fresh.append(step(1));
      // A reused id: refused at the open or at its first append, the store may choose.
      await expectConflict(
        journal.open(id, 'w2', { fresh: true }).then((reused) => reused.append(started())),
        'a fresh open of a run that has records',
      );
      await fresh.append(step(2));
      assert.deepEqual(
        (await journal.read(id)).map(({ record }) => record.type),
        ['run.started', 'model.step', 'model.step'],
      );
    },
  },
];
