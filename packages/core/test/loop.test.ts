import {
  defineAgent,
  defineTool,
  parseToolResult,
  type RunEvent,
  RunEvents,
  resume,
  run,
  stream,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * A tool that waits 200 ms (or until aborted) and reports its id. `log` records every start and end in
 * order and `maxInFlight` the most calls running at once: concurrency is proven by the order of events,
 * never by a wall clock (a loaded machine stretches every interval).
 */
function waitTool() {
  const log: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const tool = defineTool({
    name: 'wait',
    description: 'Waits 200 ms and reports its id',
    input: z.object({ id: z.number() }),
    execute: async ({ id }, { signal }) => {
      log.push(`start ${id}`);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 200);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
      } finally {
        inFlight--;
        log.push(`end ${id}`);
      }
      return { id };
    },
  });
  return {
    tool,
    log,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

const sleepTool = waitTool().tool;

const search = defineTool({
  name: 'search',
  description: 'Searches documents',
  input: z.object({
    query: z.string().min(1),
    limit: z.number().int().max(10).optional(),
    mode: z.enum(['fast', 'deep']),
  }),
  execute: ({ query }) => [{ title: `About ${query}` }],
});

function toolContent(model: ReturnType<typeof scriptedModel>, request: number): string {
  return String(model.requests[request]?.messages.at(-1)?.content);
}

describe('the loop', () => {
  it('runs three independent 200 ms tool calls of one step concurrently (every call starts before any ends)', async () => {
    const model = scriptedModel([
      { toolCalls: [1, 2, 3].map((id) => ({ name: 'wait', args: { id } })) },
      'all done',
    ]);
    const waits = waitTool();
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [waits.tool] });
    const result = await run(agent, 'go');
    expect(result.status).toBe('completed');
    // All three were in flight together: every call started before the first one finished.
    expect(waits.log.slice(0, 3).sort()).toEqual(['start 1', 'start 2', 'start 3']);
    expect(waits.log.slice(3).sort()).toEqual(['end 1', 'end 2', 'end 3']);
    expect(waits.maxInFlight).toBe(3);
    // Results come back in call order, each paired with its call id.
    const messages = model.requests[1]?.messages.slice(-3) ?? [];
    expect(messages.map((m) => (m.role === 'tool' ? m.toolCallId : ''))).toEqual([
      'call_1_0',
      'call_1_1',
      'call_1_2',
    ]);
  });

  it('bounds concurrency with limits.toolConcurrency', async () => {
    const model = scriptedModel([
      { toolCalls: [1, 2, 3, 4].map((id) => ({ name: 'wait', args: { id } })) },
      'ok',
    ]);
    const waits = waitTool();
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [waits.tool],
      limits: { toolConcurrency: 2 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('completed');
    // Never more than two at once, yet two at once (bounded, not serialized), and all four ran.
    expect(waits.maxInFlight).toBe(2);
    expect(waits.log.filter((entry) => entry.startsWith('end'))).toHaveLength(4);
    // The third call started only after one of the first two ended.
    expect(waits.log.slice(0, 3)).toEqual(['start 1', 'start 2', expect.stringMatching(/^end [12]$/)]);
  });

  it('reports invalid arguments with the zod issues and what is expected, and the model recovers', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'search', args: { query: '', limit: 'ten', mode: 'slow' } }] },
      { toolCalls: [{ name: 'search', args: { query: 'budgets', mode: 'fast' } }] },
      'Found it.',
    ]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [search] });
    const result = await run(agent, 'go');
    expect(result.status).toBe('completed');
    const first = parseToolResult(toolContent(model, 1));
    expect(first?.result.ok).toBe(false);
    const error = first?.result.ok === false ? first.result.error : undefined;
    expect(error?.code).toBe('TOOL_INPUT_INVALID');
    expect(error?.message).toContain('- query: Too small');
    expect(error?.message).toContain('- limit: Invalid input: expected number');
    expect(error?.message).toContain('valid options: "fast", "deep"');
    expect(error?.message).toContain('Expected: { query: string, limit?: integer, mode: "fast" | "deep" }');
    expect(parseToolResult(toolContent(model, 2))?.result).toEqual({
      ok: true,
      data: [{ title: 'About budgets' }],
    });
  });

  it('answers an unknown tool with the list of valid tools and the closest name', async () => {
    const model = scriptedModel([{ toolCalls: [{ name: 'serch', args: {} }] }, 'ok']);
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [search, sleepTool],
    });
    await run(agent, 'go');
    const parsed = parseToolResult(toolContent(model, 1));
    expect(parsed?.result).toMatchObject({
      ok: false,
      error: {
        code: 'TOOL_UNKNOWN',
        message: 'Unknown tool "serch". Valid tools: search, wait.',
        hint: 'Did you mean "search"?',
      },
    });
  });

  it('reports malformed argument JSON as invalid input, not a crash', async () => {
    const model = scriptedModel([{ toolCalls: [{ name: 'search', rawArguments: '{"query": "x", ' }] }, 'ok']);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [search] });
    const result = await run(agent, 'go');
    expect(result.status).toBe('completed');
    expect(parseToolResult(toolContent(model, 1))?.result).toMatchObject({
      ok: false,
      error: { code: 'TOOL_INPUT_INVALID' },
    });
  });

  it('streams events and streamed text, ending with the same result', async () => {
    const model = scriptedModel([{ toolCalls: [{ name: 'wait', args: { id: 7 } }] }, 'The answer is 42.']);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [sleepTool] });
    const outer = new RunEvents();
    const forwarded: string[] = [];
    outer.on('tool.end', (event) => forwarded.push(event.tool));
    const events: RunEvent[] = [];
    const running = stream(agent, 'go', { events: outer });
    for await (const event of running) events.push(event);
    const result = await running.result;
    expect(result.status).toBe('completed');
    expect(events.map((e) => e.type)).toEqual([
      'run.start',
      'step.start',
      'step.end',
      'tool.start',
      'tool.end',
      'step.start',
      'model.delta',
      'model.delta',
      'model.delta',
      'model.delta',
      'step.end',
      'run.end',
    ]);
    const text = events.flatMap((e) => (e.type === 'model.delta' ? [e.text] : [])).join('');
    expect(text).toBe('The answer is 42.');
    expect(forwarded).toEqual(['wait']);
  });

  it('warns when a limit is near', async () => {
    let n = 0;
    const model = scriptedModel(() =>
      n++ < 4 ? { toolCalls: [{ name: 'wait', args: { id: n } }] } : 'done',
    );
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [
        defineTool({
          name: 'wait',
          description: 'x',
          input: z.object({ id: z.number() }),
          execute: ({ id }) => id,
        }),
      ],
      limits: { maxSteps: 5 },
    });
    const events = new RunEvents();
    const warnings: unknown[] = [];
    events.on('limit.warning', (event) =>
      warnings.push({ limit: event.limit, used: event.used, max: event.max }),
    );
    const result = await run(agent, 'go', { events });
    expect(result.status).toBe('completed');
    expect(warnings).toEqual([{ limit: 'steps', used: 4, max: 5 }]);
  });

  it('validates structured output and returns the parsed value', async () => {
    const model = scriptedModel(['Here you go:\n```json\n{"score": 8, "label": "good"}\n```']);
    const agent = defineAgent({
      name: 'rater',
      description: 'd',
      instructions: 'Rate it.',
      model,
      output: z.object({ score: z.number(), label: z.string() }),
    });
    const result = await run(agent, 'rate');
    expect(result.output).toEqual({ score: 8, label: 'good' });
    expect(model.requests[0]?.responseSchema?.name).toBe('rater_output');
    expect(model.requests[0]?.messages[0]?.content).toContain('"score"');
  });

  it('rejects invalid input with a typed error and a result, not an exception', async () => {
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model: scriptedModel(['x']),
      input: z.object({ topic: z.string() }),
    });
    const result = await run(agent, { topic: 3 } as unknown as { topic: string });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('INPUT_INVALID');
    expect(result.steps).toBe(0);
  });
});

describe('approvals and resumable state', () => {
  const deleteFile = defineTool({
    name: 'delete_file',
    description: 'Deletes a file',
    input: z.object({ path: z.string() }),
    risk: 'destructive',
    execute: ({ path }) => ({ deleted: path }),
  });

  it('pauses a destructive call without a handler, serializes, and resumes elsewhere with a decision', async () => {
    const script = [{ toolCalls: [{ name: 'delete_file', args: { path: '/tmp/a' } }] }, 'Deleted.'];
    const agent = defineAgent({
      name: 'ops',
      description: 'd',
      instructions: 'i',
      model: scriptedModel(script.slice(0, 1)),
      tools: [deleteFile],
    });
    const paused = await run(agent, 'clean up');
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.partial.toolResults).toHaveLength(0);
    const wire = JSON.stringify(paused.state);

    // "Another process": a fresh agent definition and a state that went through JSON.
    const later = agent.with({ model: scriptedModel(script.slice(1)) });
    const state = JSON.parse(wire);
    const toolCallId = state.pending.awaiting[0];
    const resumed = await resume(later, state, { decisions: { [toolCallId]: { decision: 'approve' } } });
    expect(resumed.status).toBe('completed');
    expect(resumed.runId).toBe(paused.runId);
    expect(resumed.steps).toBe(2);
    expect(resumed.partial.toolResults).toMatchObject([
      { tool: 'delete_file', ok: true, data: { deleted: '/tmp/a' } },
    ]);
  });

  it('a denial stops the run with status denied; an edit runs with the edited arguments', async () => {
    const agent = defineAgent({
      name: 'ops',
      description: 'd',
      instructions: 'i',
      model: scriptedModel([{ toolCalls: [{ name: 'delete_file', args: { path: '/etc' } }] }]),
      tools: [deleteFile],
    });
    const denied = await run(agent, 'go', { approve: () => ({ decision: 'deny', reason: 'not /etc' }) });
    expect(denied.status).toBe('denied');
    expect(denied.error?.message).toContain('not /etc');

    const edited = await run(
      agent.with({
        model: scriptedModel([{ toolCalls: [{ name: 'delete_file', args: { path: '/etc' } }] }, 'ok']),
      }),
      'go',
      { approve: () => ({ decision: 'edit', args: { path: '/tmp/safe' } }) },
    );
    expect(edited.status).toBe('completed');
    expect(edited.partial.toolResults[0]?.data).toEqual({ deleted: '/tmp/safe' });
  });

  it('refuses a corrupted state with STATE_INVALID', async () => {
    const agent = defineAgent({ name: 'ops', description: 'd', instructions: 'i', model: scriptedModel([]) });
    await expect(resume(agent, { v: 99 } as never)).rejects.toMatchObject({ code: 'STATE_INVALID' });
  });

  it('a tool policy denies tools above the allowed risk with a clear message', async () => {
    const model = scriptedModel([{ toolCalls: [{ name: 'delete_file', args: { path: '/x' } }] }, 'ok']);
    const agent = defineAgent({
      name: 'ops',
      description: 'd',
      instructions: 'i',
      model,
      tools: [deleteFile],
    });
    const result = await run(agent, 'go', { toolPolicy: { maxRisk: 'read' } });
    expect(result.status).toBe('completed');
    expect(parseToolResult(String(model.requests[1]?.messages.at(-1)?.content))?.result).toMatchObject({
      ok: false,
      error: { code: 'TOOL_PERMISSION_DENIED' },
    });
  });
});
