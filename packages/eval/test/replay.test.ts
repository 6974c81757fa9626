import type { Model } from '@baton/core';
import { describe, expect, it } from 'vitest';
import {
  inputFor,
  type Recording,
  RecordingSession,
  ReplaySession,
  recordingSchema,
  runVariant,
  type Variant,
} from '../src/index.js';

const variant: Variant = { team: 'research', model: 'offline' };
const input = inputFor(variant, { topic: 'idempotency keys for tool calls' });

async function recordRun(): Promise<{
  recording: Recording;
  output: unknown;
  transcript: unknown;
  steps: number;
}> {
  const recorder = new RecordingSession();
  const run = await runVariant(variant, input, { hooks: recorder });
  expect(run.status).toBe('completed');
  const recording = recorder.recording({
    id: run.runId,
    input,
    team: 'research',
    result: { status: run.status, output: run.output, steps: run.steps },
  });
  return { recording, output: run.output, transcript: run.transcript, steps: run.steps };
}

/** A model that must never be called: a full replay answers from the recording only. */
function forbidden(id: string): Model {
  return {
    id,
    provider: 'forbidden',
    generate: () => Promise.reject(new Error(`${id} was called during a full replay`)),
    // biome-ignore lint/correctness/useYield: it only fails
    async *stream() {
      throw new Error(`${id} was called during a full replay`);
    },
  };
}

describe('record and replay', () => {
  it('a recorded team run replays to the identical result and transcript, without calling the models', async () => {
    const original = await recordRun();
    // What the recorder wrote is a valid recording file (it round-trips through JSON and the schema).
    const recording = recordingSchema.parse(JSON.parse(JSON.stringify(original.recording)));
    expect(Object.keys(recording.members).sort()).toEqual(['researcher', 'reviewer', 'writer']);
    expect(recording.members.researcher?.tools.map((call) => call.tool)).toEqual([
      'search_corpus',
      'read_document',
    ]);
    expect(recording.members.writer?.model.length).toBeGreaterThanOrEqual(2);

    const replay = new ReplaySession(recording, 'full');
    // Members' models are swapped for ones that throw: every answer must come from the recording.
    const guarded = {
      model: (member: string, _model: Model) => replay.model(member, forbidden(member)),
      tool: replay.tool.bind(replay),
    };
    const again = await runVariant(variant, input, { hooks: guarded });
    expect(replay.divergence).toBeUndefined();
    expect(again.status).toBe('completed');
    expect(again.output).toEqual(original.output);
    expect(again.transcript).toEqual(original.transcript);
    expect(again.steps).toBe(original.steps);
    expect(replay.unconsumed()).toEqual([]);
    expect(replay.misses).toBe(0);
    const recordedCalls = Object.values(recording.members).reduce(
      (sum, tape) => sum + tape.model.length + tape.tools.length,
      0,
    );
    expect(replay.hits).toBe(recordedCalls);
  });

  it.each([
    ['research-supervisor', ['manager', 'researcher', 'reviewer', 'writer']],
    ['debate', ['editor', 'fact-checker', 'judge', 'researcher', 'writer']],
  ])(
    'the %s team records every model (its manager, the drafter’s specialists) and replays identically',
    async (team, members) => {
      const v: Variant = { team, model: 'offline' };
      const teamInput = inputFor(v, { topic: 'retries with backoff' });
      const recorder = new RecordingSession();
      const first = await runVariant(v, teamInput, { hooks: recorder });
      expect(first.status).toBe('completed');
      const recording = recorder.recording({ id: first.runId, input: teamInput, team });
      expect(Object.keys(recording.members).sort()).toEqual(members);
      const replay = new ReplaySession(recording, 'full');
      const guarded = {
        model: (member: string, _model: Model) => replay.model(member, forbidden(member)),
        tool: replay.tool.bind(replay),
      };
      const again = await runVariant(v, teamInput, { hooks: guarded });
      expect(replay.divergence).toBeUndefined();
      expect(again.output).toEqual(first.output);
      expect(again.transcript).toEqual(first.transcript);
      expect(replay.unconsumed()).toEqual([]);
    },
  );

  it('a replay that asks something else fails with EVAL_REPLAY_DIVERGED, a typed error', async () => {
    const { recording } = await recordRun();
    const replay = new ReplaySession(recording, 'full');
    const changed: Variant = { ...variant, instructions: { writer: { append: 'Write in French.' } } };
    const run = await runVariant(changed, input, { hooks: replay });
    expect(run.status).not.toBe('completed');
    const error = replay.divergence;
    expect(error?.code).toBe('EVAL_REPLAY_DIVERGED');
    expect(error?.category).toBe('user');
    expect(error?.details).toMatchObject({ member: 'writer', call: 1 });
    expect(error?.toJSON()).toMatchObject({ name: 'BatonError', code: 'EVAL_REPLAY_DIVERGED' });
  });

  it('one model call more than recorded diverges; an unrecorded tool call diverges in full mode only', async () => {
    const { recording } = await recordRun();
    const calls = recording.members.reviewer?.model ?? [];
    const replay = new ReplaySession(recording, 'full');
    const model = replay.model('reviewer', forbidden('reviewer'));
    // Without request fingerprints (a recording rebuilt from a journal) only order and count are checked.
    const unfingerprinted = new ReplaySession(
      {
        ...recording,
        members: { reviewer: { model: calls.map(({ response }) => ({ response })), tools: [] } },
      },
      'full',
    );
    const loose = unfingerprinted.model('reviewer', forbidden('reviewer'));
    for (let i = 0; i < calls.length; i++)
      await loose.generate({ messages: [{ role: 'user', content: `call ${i}` }] });
    await expect(loose.generate({ messages: [{ role: 'user', content: 'one more' }] })).rejects.toMatchObject(
      {
        code: 'EVAL_REPLAY_DIVERGED',
        details: { member: 'reviewer', call: calls.length + 1, recorded: calls.length },
      },
    );
    await expect(
      model.generate({ messages: [{ role: 'user', content: 'not what was asked' }] }),
    ).rejects.toMatchObject({
      code: 'EVAL_REPLAY_DIVERGED',
    });

    const [search] = recording.members.researcher?.tools ?? [];
    const tool = { kind: 'tool', name: 'search_corpus', execute: async () => ({ live: true }) } as never;
    const full = new ReplaySession(recording, 'full').tool('researcher', tool);
    await expect(full.execute({ query: 'something never searched' }, {} as never)).rejects.toMatchObject({
      code: 'EVAL_REPLAY_DIVERGED',
    });
    const toolsOnly = new ReplaySession(recording, 'tools');
    const replayed = toolsOnly.tool('researcher', tool);
    expect(await replayed.execute(search?.args, {} as never)).toEqual(search?.data);
    expect(await replayed.execute({ query: 'something never searched' }, {} as never)).toEqual({
      live: true,
    });
    expect({ hits: toolsOnly.hits, misses: toolsOnly.misses }).toEqual({ hits: 1, misses: 1 });
  });

  it('a recorded tool failure replays as the same failure', async () => {
    const recording: Recording = {
      v: 1,
      kind: 'baton.recording',
      id: 'r',
      source: 'recorder',
      input: {},
      recordedAt: new Date(0).toISOString(),
      members: {
        a: {
          model: [],
          tools: [
            {
              tool: 't',
              args: { x: 1 },
              ok: false,
              error: { code: 'NOT_FOUND', message: 'no x', retryable: false, hint: 'try y' },
            },
          ],
        },
      },
    };
    const tool = new ReplaySession(recording, 'full').tool('a', {
      kind: 'tool',
      name: 't',
      execute: async () => 1,
    } as never);
    await expect(tool.execute({ x: 1 }, {} as never)).rejects.toMatchObject({
      toolCode: 'NOT_FOUND',
      message: 'no x',
      hint: 'try y',
    });
  });
});
