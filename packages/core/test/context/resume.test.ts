/**
 * Replay after compaction is deterministic (issue 13 item 1): a journaled run that crashes after its
 * pipeline wrote a summary resumes with the very context the uninterrupted run sent — the summary comes
 * from the journal (`context.summary`), the summarizer is not asked again, and its usage still counts. A
 * run paused for approval carries its summary in the RunState (`context`) and resumes the same way.
 */
import {
  capToolResults,
  defineAgent,
  defineTool,
  type JournalRecord,
  type JournalWriter,
  type ModelRequest,
  memoryJournal,
  type RunJournal,
  type RunState,
  resume,
  run,
  summarize,
} from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeOf, codeSummarizer, filler, longTaskModel, lookup } from './helpers.js';

const ITEMS = 8;

const messagesOf = (requests: readonly ModelRequest[]) => requests.map((request) => request.messages);

/** A journal whose process "dies" after `limit` appends (later ones fail; nothing more is recorded). */
function dyingAfter(journal: RunJournal, limit: number): RunJournal {
  let appended = 0;
  return {
    ...journal,
    async open(runId, writer): Promise<JournalWriter> {
      const inner = await journal.open(runId, writer);
      return {
        runId,
        existing: inner.existing,
        async append(record: JournalRecord) {
          if (appended >= limit) throw new Error('the process died');
          appended++;
          return inner.append(record);
        },
      };
    },
  };
}

function auditor(model = longTaskModel({ items: ITEMS, notes: false }), summarizer = codeSummarizer()) {
  const agent = defineAgent({
    name: 'auditor',
    description: 'Finds item codes',
    instructions: 'Look every item up, then list the codes.',
    model,
    tools: [lookup],
    limits: { maxSteps: 20 },
    context: [
      capToolResults({ maxTokens: 250 }),
      summarize({ triggerTokens: 1_000, keepTurns: 2, model: summarizer }),
    ],
  });
  return { agent, model, summarizer };
}

describe('resume after compaction', () => {
  it('a crashed journaled run rebuilds the same compacted context from its recorded summary', async () => {
    // The uninterrupted run: what every step was sent.
    const reference = auditor();
    const referenceJournal = memoryJournal();
    const expected = await run(reference.agent, 'audit', { runId: 'r-ref', journal: referenceJournal });
    expect(expected.status).toBe('completed');
    for (let item = 0; item < ITEMS; item++) expect(expected.output).toContain(codeOf(item));
    const records = (await referenceJournal.read('r-ref')).map((entry) => entry.record);
    const summaries = records.filter((record) => record.type === 'context.summary');
    expect(summaries.length).toBeGreaterThanOrEqual(2);
    expect(reference.summarizer.requests).toHaveLength(summaries.length);

    // The same run dies right after its second summary was recorded, before that step's model answer was.
    const second = summaries[1] as Extract<JournalRecord, { type: 'context.summary' }>;
    const limit = records.indexOf(second) + 1;
    const journal = memoryJournal();
    const crashed = await run(auditor().agent, 'audit', {
      runId: 'r-crash',
      journal: dyingAfter(journal, limit),
    });
    expect(crashed.status).toBe('failed');
    expect(crashed.error?.code).toBe('JOURNAL_UNAVAILABLE');

    // Resumed in a "new process": fresh models that continue the script from the step that was cut.
    const resumedStep = second.step;
    // Its summarizer writes differently: a summary asked again would show.
    const fresh = auditor(
      longTaskModel({ items: ITEMS, notes: false, offset: resumedStep - 1 }),
      codeSummarizer('Facts (resumed)'),
    );
    const resumed = await resume(fresh.agent, 'r-crash', { journal });
    expect(resumed.status).toBe('completed');
    expect(resumed.output).toEqual(expected.output);
    // Byte for byte the context the uninterrupted run sent at the step that was cut.
    expect(fresh.model.requests[0]?.messages).toEqual(reference.model.requests[resumedStep - 1]?.messages);
    expect(fresh.model.requests[0]?.messages[2]?.content).toContain(JSON.stringify(second.text).slice(1, -1));
    // The recorded summaries were not asked for again; the later ones were.
    expect(fresh.summarizer.requests).toHaveLength(summaries.length - 2);
    // And everything counts once: replayed steps and replayed summaries included.
    expect(resumed.usage).toEqual(expected.usage);
    expect(resumed.steps).toBe(expected.steps);
  });

  it('a run paused for approval keeps its summary in the RunState and resumes with the same context', async () => {
    const gated = defineTool({
      name: 'lookup',
      description: 'Looks up an item record',
      input: z.object({ item: z.number().int() }),
      needsApproval: ({ item }) => item === 6,
      execute: ({ item }) => ({
        item,
        record: `${filler(150, item)} The code of item ${item} is ${codeOf(item)}.`,
      }),
    });
    const make = (model: ReturnType<typeof longTaskModel>, summarizer: ReturnType<typeof codeSummarizer>) =>
      defineAgent({
        name: 'gated',
        description: 'Finds item codes',
        instructions: 'Look every item up, then list the codes.',
        model,
        tools: [gated],
        limits: { maxSteps: 20 },
        context: [summarize({ triggerTokens: 800, keepTurns: 1, model: summarizer })],
      });
    const referenceModel = longTaskModel({ items: ITEMS, notes: false });
    const referenceSummarizer = codeSummarizer();
    const reference = await run(make(referenceModel, referenceSummarizer), 'audit', {
      approve: () => ({ decision: 'approve' }),
    });
    expect(reference.status).toBe('completed');

    const pausedModel = longTaskModel({ items: ITEMS, notes: false });
    const pausedSummarizer = codeSummarizer();
    const paused = await run(make(pausedModel, pausedSummarizer), 'audit');
    expect(paused.status).toBe('awaiting_approval');
    const state = JSON.parse(JSON.stringify(paused.state)) as RunState;
    expect(state.context?.summary?.through).toBeGreaterThan(0);
    // The state's messages are the whole conversation, never the compacted one.
    expect(state.messages.filter((message) => message.role === 'assistant')).toHaveLength(state.step);

    const freshSummarizer = codeSummarizer();
    const freshModel = longTaskModel({ items: ITEMS, notes: false, offset: state.step });
    const callId = state.pending?.awaiting[0] as string;
    const resumed = await resume(make(freshModel, freshSummarizer), state, {
      decisions: { [callId]: { decision: 'approve' } },
    });
    expect(resumed.status).toBe('completed');
    expect(resumed.output).toEqual(reference.output);
    // Every call after the pause is sent what the uninterrupted run sent, built on the state's summary:
    // the summarizer is asked only for what the paused run had not summarized yet.
    expect(messagesOf(freshModel.requests)).toEqual(messagesOf(referenceModel.requests.slice(state.step)));
    expect(pausedSummarizer.requests.length).toBeGreaterThan(0);
    expect(freshSummarizer.requests).toHaveLength(
      referenceSummarizer.requests.length - pausedSummarizer.requests.length,
    );
  });
});
