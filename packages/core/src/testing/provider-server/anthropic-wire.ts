import {
  defaultErrorMessage,
  type JsonBody,
  pieces,
  type RenderContext,
  type SseEvent,
  usageOf,
} from './render.js';
import type { ErrorReply, ReplyToolCall, TurnReply } from './types.js';

/** Messages API wire format: a `message` body, or named events from `message_start` to `message_stop`. */

function wireUsage(reply: TurnReply) {
  const usage = usageOf(reply);
  if (!usage) return undefined;
  const read = usage.cachedInputTokens ?? 0;
  const written = usage.cacheCreationInputTokens ?? 0;
  return {
    // Anthropic counts cache reads and writes apart from input_tokens.
    input_tokens: Math.max(0, usage.inputTokens - read - written),
    cache_read_input_tokens: read,
    cache_creation_input_tokens: written,
    output_tokens: usage.outputTokens,
  };
}

function stopReason(reply: TurnReply): string {
  return reply.finishReason ?? ((reply.toolCalls ?? []).length > 0 ? 'tool_use' : 'end_turn');
}

function toolId(call: ReplyToolCall, context: RenderContext, position: number): string {
  return call.id ?? `toolu_${context.index}_${position}`;
}

function toolInput(call: ReplyToolCall): unknown {
  if (call.rawArguments === undefined) return call.args ?? {};
  try {
    return JSON.parse(call.rawArguments);
  } catch {
    return call.rawArguments;
  }
}

function signatureOf(reply: TurnReply, context: RenderContext): string {
  return (
    reply.signature ??
    `sig_${context.index}_${Buffer.from(reply.reasoning ?? '')
      .toString('base64')
      .slice(0, 16)}`
  );
}

export function anthropicJson(reply: TurnReply, context: RenderContext): JsonBody {
  const content: unknown[] = [];
  if (reply.reasoning) {
    content.push({ type: 'thinking', thinking: reply.reasoning, signature: signatureOf(reply, context) });
  }
  if (reply.text) content.push({ type: 'text', text: reply.text });
  for (const [position, call] of (reply.toolCalls ?? []).entries()) {
    content.push({
      type: 'tool_use',
      id: toolId(call, context, position),
      name: call.name,
      input: toolInput(call),
    });
  }
  const body: Record<string, unknown> = {
    id: reply.id ?? `msg_${context.index}`,
    type: 'message',
    role: 'assistant',
    model: reply.model ?? context.model,
    content,
    stop_reason: stopReason(reply),
    stop_sequence: null,
  };
  const usage = wireUsage(reply);
  if (usage) body.usage = usage;
  return { status: 200, body: JSON.stringify(body) };
}

export function anthropicEvents(reply: TurnReply, context: RenderContext): SseEvent[] {
  const size = reply.chunkSize ?? 4;
  const usage = wireUsage(reply);
  const events: SseEvent[] = [];
  const emit = (payload: { type: string } & Record<string, unknown>) =>
    events.push({ event: payload.type, data: JSON.stringify(payload) });
  emit({
    type: 'message_start',
    message: {
      id: reply.id ?? `msg_${context.index}`,
      type: 'message',
      role: 'assistant',
      model: reply.model ?? context.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage ? { ...usage, output_tokens: 1 } : undefined,
    },
  });
  emit({ type: 'ping' });
  let index = 0;
  if (reply.reasoning) {
    emit({
      type: 'content_block_start',
      index,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    });
    for (const piece of pieces(reply.reasoning, size)) {
      emit({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } });
    }
    emit({
      type: 'content_block_delta',
      index,
      delta: { type: 'signature_delta', signature: signatureOf(reply, context) },
    });
    emit({ type: 'content_block_stop', index });
    index++;
  }
  if (reply.text) {
    emit({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    for (const piece of pieces(reply.text, size)) {
      emit({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    }
    emit({ type: 'content_block_stop', index });
    index++;
  }
  for (const [position, call] of (reply.toolCalls ?? []).entries()) {
    emit({
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: toolId(call, context, position), name: call.name, input: {} },
    });
    const json = call.rawArguments ?? JSON.stringify(call.args ?? {});
    emit({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const piece of pieces(json, size)) {
      emit({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    emit({ type: 'content_block_stop', index });
    index++;
  }
  const delta: { type: string } & Record<string, unknown> = {
    type: 'message_delta',
    delta: { stop_reason: stopReason(reply), stop_sequence: null },
  };
  if (usage) delta.usage = usage;
  emit(delta);
  emit({ type: 'message_stop' });
  return events;
}

export function anthropicStreamError(error: { type: string; message: string }): SseEvent {
  return { event: 'error', data: JSON.stringify({ type: 'error', error }) };
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicErrorBody(reply: ErrorReply, requestId: string): string {
  if (reply.body !== undefined)
    return typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const type =
    reply.errorType ??
    ANTHROPIC_ERROR_TYPES[reply.status] ??
    (reply.status >= 500 ? 'api_error' : 'invalid_request_error');
  return JSON.stringify({
    type: 'error',
    error: { type, message: defaultErrorMessage(reply) },
    request_id: requestId,
  });
}
