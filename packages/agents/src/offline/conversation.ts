import {
  type Message,
  type ModelRequest,
  parseToolResult,
  type ToolCall,
  type ToolResult,
  type ToolSpec,
} from '@baton/core';
import type { z } from 'zod';

/** One tool call the model made earlier in the conversation, with its result when it has come back. */
export interface ToolExchange {
  call: ToolCall;
  /** Undefined while pending, or when the result was truncated beyond reading. */
  result: ToolResult | undefined;
}

/** Pairs every assistant tool call with its tool message, in conversation order. */
export function toolExchanges(messages: readonly Message[]): ToolExchange[] {
  const results = new Map<string, ToolResult | undefined>();
  for (const message of messages) {
    if (message.role === 'tool') results.set(message.toolCallId, readToolResult(message.content));
  }
  const exchanges: ToolExchange[] = [];
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    for (const call of message.toolCalls ?? []) exchanges.push({ call, result: results.get(call.id) });
  }
  return exchanges;
}

/** Successful results of one tool, oldest first. */
export function okResults(
  exchanges: readonly ToolExchange[],
  tool: string,
): { call: ToolCall; data: unknown }[] {
  const found: { call: ToolCall; data: unknown }[] = [];
  for (const exchange of exchanges) {
    if (exchange.call.name === tool && exchange.result?.ok)
      found.push({ call: exchange.call, data: exchange.result.data });
  }
  return found;
}

function readToolResult(content: string): ToolResult | undefined {
  const parsed = parseToolResult(content);
  if (parsed) return parsed.result;
  return undefined;
}

/** The JSON value in a text: the whole text, a fenced block, or the outermost `{…}`. */
export function extractJson(text: string): unknown {
  const trimmed = text.trim();
  const candidates = [trimmed];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(trimmed);
  if (fenced) candidates.push((fenced[1] as string).trim());
  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  if (start >= 0 && end > start) candidates.push(trimmed.slice(start, end + 1));
  for (const candidate of candidates) {
    if (!candidate.startsWith('{') && !candidate.startsWith('[') && !candidate.startsWith('"')) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // Not this candidate; try the next.
    }
  }
  return undefined;
}

function userTexts(messages: readonly Message[]): string[] {
  return messages.filter((message) => message.role === 'user').map((message) => message.content);
}

/**
 * The run's input as the role expects it: the latest user message that parses with `schema` (so a
 * corrective message from the loop is skipped), as JSON or wrapped from plain text by `fromText`.
 */
export function findInput<T>(
  messages: readonly Message[],
  schema: z.ZodType<T>,
  fromText?: (text: string) => unknown,
): T | undefined {
  const texts = userTexts(messages);
  for (const text of [...texts].reverse()) {
    const json = extractJson(text);
    if (json === undefined) continue;
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
  }
  if (!fromText) return undefined;
  const first = texts[0];
  if (first === undefined || first.trim() === '') return undefined;
  const parsed = schema.safeParse(fromText(first.trim()));
  return parsed.success ? parsed.data : undefined;
}

/** The first user message: the task, as a person typed it. */
export function taskText(messages: readonly Message[]): string {
  return userTexts(messages)[0]?.trim() ?? '';
}

export function availableTools(request: ModelRequest): Map<string, ToolSpec> {
  const allowed = request.toolChoice === 'none' ? [] : (request.tools ?? []);
  return new Map(allowed.map((tool) => [tool.name, tool]));
}

/** Assistant turns so far: the offline model's step counter (used for deterministic call ids). */
export function turnIndex(messages: readonly Message[]): number {
  return messages.filter((message) => message.role === 'assistant').length;
}
