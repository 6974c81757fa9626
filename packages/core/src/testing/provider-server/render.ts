import type { Usage } from '../../model/types.js';
import type { ErrorReply, ReplyToolCall, TurnReply } from './types.js';

export interface SseEvent {
  event?: string;
  data: string;
}

export interface JsonBody {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** The inputs a renderer needs besides the reply itself. */
export interface RenderContext {
  /** The request's position, for ids. */
  index: number;
  model: string;
  /** The client asked for usage in the stream (OpenAI `stream_options.include_usage`). */
  includeUsage: boolean;
}

export const DEFAULT_USAGE: Usage = { inputTokens: 10, outputTokens: 5 };

/** Splits text into pieces of `size` characters (code points, so no surrogate pair is cut). */
export function pieces(text: string, size: number): string[] {
  const characters = Array.from(text);
  const out: string[] = [];
  for (let start = 0; start < characters.length; start += Math.max(1, size)) {
    out.push(characters.slice(start, start + Math.max(1, size)).join(''));
  }
  return out;
}

export function argumentText(call: ReplyToolCall): string {
  return call.rawArguments ?? JSON.stringify(call.args ?? {});
}

export function usageOf(reply: TurnReply): Usage | undefined {
  return reply.usage === null ? undefined : (reply.usage ?? DEFAULT_USAGE);
}

export function defaultErrorMessage(reply: ErrorReply): string {
  return reply.message ?? `Scripted HTTP ${reply.status}`;
}
