import { BatonError } from '../../errors.js';
import type { FinishReason, ModelResponse, ReasoningPart, ToolCall, Usage } from '../../model/types.js';
import { generatedCallId } from '../shared.js';
import { messageSchema, type WireBlock, type WireUsage } from './wire.js';

export const PROVIDER_TAG = 'anthropic';

export function stopReasonOf(raw: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
      return hasToolCalls ? 'tool-calls' : 'stop';
    case 'tool_use':
      return 'tool-calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content-filter';
    default:
      return hasToolCalls ? 'tool-calls' : 'other';
  }
}

/**
 * Anthropic reports cache reads and writes apart from `input_tokens`; our `inputTokens` counts every
 * input token, so they are added in (and also kept apart for pricing).
 */
export function usageOf(wire: WireUsage | null | undefined): Usage | undefined {
  if (!wire) return undefined;
  if (typeof wire.input_tokens !== 'number' && typeof wire.output_tokens !== 'number') return undefined;
  const read = wire.cache_read_input_tokens;
  const written = wire.cache_creation_input_tokens;
  const usage: Usage = {
    inputTokens: (wire.input_tokens ?? 0) + (read ?? 0) + (written ?? 0),
    outputTokens: wire.output_tokens ?? 0,
  };
  if (typeof read === 'number') usage.cachedInputTokens = read;
  if (typeof written === 'number') usage.cacheCreationInputTokens = written;
  const thinking = wire.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') usage.reasoningTokens = thinking;
  return usage;
}

/** A thinking block as a reasoning part, kept verbatim so it can be sent back. */
export function reasoningPartOf(block: WireBlock): ReasoningPart | undefined {
  if (block.type === 'thinking') {
    const part: ReasoningPart = { text: block.thinking ?? '', provider: PROVIDER_TAG };
    if (block.signature !== undefined) part.signature = block.signature;
    return part;
  }
  if (block.type === 'redacted_thinking' && block.data !== undefined) {
    return { text: '', redactedData: block.data, provider: PROVIDER_TAG };
  }
  return undefined;
}

export function reasoningText(parts: readonly ReasoningPart[]): string {
  return parts
    .map((part) => part.text)
    .filter((text) => text !== '')
    .join('\n\n');
}

function inputOf(input: unknown): unknown {
  return input === undefined || input === null || input === '' ? {} : input;
}

/** Normalizes a non-streamed Messages API response. */
export function fromMessage(body: unknown, requestedModel: string, provider: string): ModelResponse {
  const parsed = messageSchema.safeParse(body);
  if (!parsed.success) {
    throw new BatonError(
      'PROVIDER_RESPONSE_INVALID',
      `${provider} ${requestedModel}: the response is not a message (${parsed.error.issues[0]?.message ?? 'unexpected shape'})`,
      { details: { provider, model: requestedModel } },
    );
  }
  const message = parsed.data;
  let text = '';
  const toolCalls: ToolCall[] = [];
  const reasoningParts: ReasoningPart[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text ?? '';
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id ?? generatedCallId(),
        name: block.name ?? '',
        arguments: inputOf(block.input),
      });
    } else {
      const part = reasoningPartOf(block);
      if (part) reasoningParts.push(part);
    }
  }
  const raw = message.stop_reason ?? undefined;
  const response: ModelResponse = {
    model: message.model || requestedModel,
    provider,
    text,
    toolCalls,
    finishReason: stopReasonOf(raw, toolCalls.length > 0),
  };
  if (message.id) response.id = message.id;
  if (raw !== undefined) response.finishReasonRaw = raw;
  if (reasoningParts.length > 0) {
    response.reasoningParts = reasoningParts;
    const reasoning = reasoningText(reasoningParts);
    if (reasoning !== '') response.reasoning = reasoning;
  }
  const usage = usageOf(message.usage);
  if (usage) response.usage = usage;
  return response;
}
