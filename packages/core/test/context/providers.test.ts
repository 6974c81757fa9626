/**
 * Compacted conversations on the wire (issue 13 item 1): a long run whose context is capped, cleared,
 * summarized, windowed and given its scratchpad goes through the official `openai` and
 * `@anthropic-ai/sdk` clients to the local wire-format server, which answers 400 — as the real APIs do —
 * to any request that breaks the provider's wire rules. The run completes; every request was accepted.
 */
import {
  anthropic,
  capToolResults,
  clearToolResults,
  defineAgent,
  type Model,
  openai,
  run,
  SCRATCHPAD_TOOL,
  SUMMARY_PREFIX,
  scratchpad,
  slidingWindow,
  summarize,
} from '@baton/core';
import {
  checkAnthropicWire,
  checkOpenAIWire,
  type ProviderReply,
  type ProviderServer,
  type ReceivedRequest,
  startProviderServer,
  type WireViolation,
} from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, lookup } from './helpers.js';

const ITEMS = 9;
let server: ProviderServer;
const violations: { request: number; found: WireViolation[] }[] = [];
const agentCalls = new Map<string, number>();

/** Codes anywhere in a request body (tool results, notes, the summary). */
const codesIn = (body: unknown) => [...new Set(JSON.stringify(body).match(/CODE-\d+/g) ?? [])].sort();

/**
 * The scripted side of the provider: refuses what the real API would refuse; answers the summarizer (a
 * request without tools) with the codes it was shown; plays the agent otherwise — look up one item per
 * step and note the code just found, then answer with every code still in view.
 */
function reply(request: ReceivedRequest): ProviderReply {
  const found =
    request.wire === 'anthropic' ? checkAnthropicWire(request.body) : checkOpenAIWire(request.body);
  if (found.length > 0) {
    violations.push({ request: request.index, found });
    return { type: 'error', status: 400, message: found.map((violation) => violation.message).join('; ') };
  }
  if (!Array.isArray(request.body.tools) || request.body.tools.length === 0) {
    return { type: 'turn', text: `Codes so far: ${codesIn(request.body.messages).join(', ')}` };
  }
  // One run per wire format, one after the other: the step is this wire's count of agent calls.
  const step = agentCalls.get(request.wire) ?? 0;
  agentCalls.set(request.wire, step + 1);
  const toolCalls = [];
  const last = JSON.stringify(request.body.messages)
    .match(/The code of item \d+ is (CODE-\d+)/g)
    ?.at(-1);
  if (step > 0 && step <= ITEMS && last) {
    toolCalls.push({ name: SCRATCHPAD_TOOL, args: { note: last } });
  }
  if (step < ITEMS) toolCalls.push({ name: 'lookup', args: { item: step } });
  if (toolCalls.length > 0) return { type: 'turn', toolCalls };
  return { type: 'turn', text: `Codes: ${codesIn(request.body.messages).join(', ')}` };
}

beforeAll(async () => {
  server = await startProviderServer({ handler: reply });
});
afterAll(async () => {
  await server.close();
});

function auditor(model: Model) {
  return defineAgent({
    name: 'auditor',
    description: 'Finds item codes',
    instructions: 'Look every item up, note each code, then list them all.',
    model,
    tools: [lookup],
    limits: { maxSteps: 20 },
    context: [
      capToolResults({ maxTokens: 200 }),
      clearToolResults({ keep: 2, exclude: [SCRATCHPAD_TOOL] }),
      // No model: the agent's own, asked with role 'extraction'.
      summarize({ triggerTokens: 900, keepTurns: 2 }),
      slidingWindow({ maxTurns: 4 }),
      scratchpad(),
    ],
  });
}

const models: [string, () => Model][] = [
  ['openai', () => openai('gpt-4.1-mini', { baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 })],
  ['anthropic', () => anthropic('claude-haiku-4-5', { baseURL: server.url, apiKey: 'test', maxRetries: 0 })],
];

describe.each(models)('%s: compacted requests through the official SDK client', (wire, make) => {
  it('every request of a long compacted run is accepted, and the run completes with every code', async () => {
    const first = server.requests.length;
    const result = await run(auditor(make()), 'audit the items');
    const requests = server.requests.slice(first);
    expect(violations).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('completed');
    for (let item = 0; item < ITEMS; item++) expect(result.output).toContain(codeOf(item));
    expect(requests.every((request) => request.wire === wire)).toBe(true);
    // The summarizer was called through the same client, and later requests carry its summary.
    const summaries = requests.filter((request) => !Array.isArray(request.body.tools));
    expect(summaries.length).toBeGreaterThan(0);
    const last = requests.filter((request) => Array.isArray(request.body.tools)).at(-1);
    expect(JSON.stringify(last?.body.messages)).toContain(SUMMARY_PREFIX);
    expect(JSON.stringify(last?.body.messages)).toContain('[Your scratchpad:');
    // The window sent at most 4 of the run's turns.
    const turns = ((last?.body.messages ?? []) as { role: string }[]).filter(
      (message) => message.role === 'assistant',
    );
    expect(turns.length).toBeLessThanOrEqual(4);
    expect(result.steps).toBe(ITEMS + 2);
  });

  it('the server refuses what the real API would: a history whose result lost its call is a 400', async () => {
    const before = violations.length;
    const agent = defineAgent({
      name: 'naive',
      description: 'd',
      instructions: 'i',
      model: make(),
      tools: [lookup],
    });
    const result = await run(agent, 'go on', {
      history: [
        { role: 'user', content: 'earlier' },
        { role: 'tool', toolCallId: 'gone', toolName: 'lookup', content: 'a result whose call was trimmed' },
      ],
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PROVIDER_BAD_REQUEST');
    expect(violations.length).toBe(before + 1);
    violations.length = before;
  });
});
