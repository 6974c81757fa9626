import type { Message, ModelRequest, ToolSpec } from '@baton/core';
import { availableTools, type ToolExchange, toolExchanges } from './conversation.js';
import { fitToSchema, type Lookup } from './schema-fit.js';

/** How the offline model names itself in everything it writes. */
export const OFFLINE_LABEL = 'Baton offline model (deterministic and rule-based, not an LLM)';

/** What one role decides for one model call: call tools, or answer. */
export interface OfflineTurn {
  text?: string;
  toolCalls?: { name: string; args: Record<string, unknown> }[];
}

/** Everything a role reads from a request, parsed once. */
export interface TurnContext {
  request: ModelRequest;
  messages: readonly Message[];
  /** The tools the model may call now (none when toolChoice is "none"). */
  tools: ReadonlyMap<string, ToolSpec>;
  exchanges: readonly ToolExchange[];
  /** The system prompt(s), joined. */
  system: string;
}

export type RolePolicy = (context: TurnContext) => OfflineTurn;

export function turnContext(request: ModelRequest): TurnContext {
  return {
    request,
    messages: request.messages,
    tools: availableTools(request),
    exchanges: toolExchanges(request.messages),
    system: request.messages
      .filter((message) => message.role === 'system')
      .map((message) => message.content)
      .join('\n\n'),
  };
}

/**
 * The final answer: JSON valid for the request's response schema when there is one (shaped by
 * `fitToSchema`, missing fields found through `lookup`), otherwise `render(value)`.
 */
export function finalAnswer(
  context: TurnContext,
  value: unknown,
  options: { lookup?: Lookup; render?: (value: unknown) => string } = {},
): OfflineTurn {
  const schema = context.request.responseSchema?.schema;
  if (schema) return { text: JSON.stringify(fitToSchema(schema, value, options.lookup ?? lookupIn(value))) };
  return { text: options.render ? options.render(value) : JSON.stringify(value, null, 2) };
}

/** A lookup over an object's own keys, matched case- and separator-insensitively. */
export function lookupIn(...sources: unknown[]): Lookup {
  const table = new Map<string, unknown>();
  for (const source of sources) {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) continue;
    for (const [key, value] of Object.entries(source)) {
      const normalized = normalizeKey(key);
      if (value !== undefined && !table.has(normalized)) table.set(normalized, value);
    }
  }
  return (key) => table.get(normalizeKey(key));
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}
