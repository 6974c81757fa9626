import type { Agent } from '../agent.js';
import { BatonError } from '../errors.js';
import type { Message, ToolSpec } from '../model/types.js';
import { inertJson, UNTRUSTED_NOTICE, wrapUntrusted } from '../tools/format.js';
import { responseSchemaFor } from './final-answer.js';
import type { LoopState } from './state.js';
import type { RunOptions } from './types.js';

/** The task as the model sees it, after an input guard rewrote it (redacted, shortened). */
export function replaceInput(state: LoopState, value: unknown): void {
  state.input = value;
  const last = state.messages.findLastIndex((message) => message.role === 'user');
  if (last >= 0) {
    state.messages[last] = {
      role: 'user',
      content: typeof value === 'string' ? value : JSON.stringify(value),
    };
  }
}

export function prepareMessages(
  agent: Agent,
  input: unknown,
  options: RunOptions,
  runId: string,
): { messages: Message[]; error?: BatonError } {
  const messages: Message[] = [];
  const schema = agent.config.input;
  let value = input;
  let error: BatonError | undefined;
  if (schema) {
    const parsed = schema.safeParse(input);
    if (parsed.success) value = parsed.data;
    else {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
      );
      error = new BatonError(
        'INPUT_INVALID',
        `Invalid input for agent "${agent.name}": ${problems.join('; ')}`,
        {
          details: { issues: problems },
        },
      );
    }
  }
  messages.push({ role: 'system', content: systemPrompt(agent, value, options, runId) });
  if (options.history) messages.push(...options.history.filter((message) => message.role !== 'system'));
  messages.push({ role: 'user', content: inputContent(value, options.inputFrom) });
  return error ? { messages, error } : { messages };
}

/**
 * The task as the model reads it. Input another agent handed over is that agent's output: data, wrapped
 * and made inert like a tool result, never instructions.
 */
function inputContent(value: unknown, from: string | undefined): string {
  if (from === undefined) return typeof value === 'string' ? value : JSON.stringify(value);
  return `Input handed over by ${from}:\n${wrapUntrusted(`agent:${from}`, inertJson(value))}`;
}

const staticPrompts = new WeakMap<Agent, string>();

function systemPrompt(agent: Agent, input: unknown, options: RunOptions, runId: string): string {
  const { instructions } = agent.config;
  if (typeof instructions === 'string') {
    let prompt = staticPrompts.get(agent);
    if (prompt === undefined) {
      prompt = withFormat(agent, instructions);
      staticPrompts.set(agent, prompt);
    }
    return prompt;
  }
  const context = options.userId === undefined ? { input, runId } : { input, runId, userId: options.userId };
  return withFormat(agent, instructions(context));
}

function withFormat(agent: Agent, instructions: string): string {
  const schema = responseSchemaFor(agent);
  // Said once, up front: what the wrapper around every tool result (and handed-over input) means.
  const notice = `${instructions}\n\n${UNTRUSTED_NOTICE}`;
  if (!schema) return notice;
  return `${notice}\n\nGive your final answer as a single JSON value matching this JSON Schema, with no other text:\n${JSON.stringify(schema.schema)}`;
}

const specs = new WeakMap<Agent, ToolSpec[]>();

export function toolSpecsOf(agent: Agent): ToolSpec[] {
  let list = specs.get(agent);
  if (!list) {
    list = [...agent.tools.values()].map((tool) => tool.spec);
    specs.set(agent, list);
  }
  return list;
}
