import { BatonError } from '../../errors.js';
import type { FinishReason, ModelResponse, ToolCall, Usage } from '../../model/types.js';
import { generatedCallId, parseToolArguments } from '../shared.js';
import {
  completionSchema,
  type WireCompletion,
  type WireContentPart,
  type WireToolCall,
  type WireUsage,
} from './wire.js';

export function finishReasonOf(raw: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'stop':
    case 'end_turn':
    case 'eos':
      // Some compatible servers report `stop` on a turn that calls tools.
      return hasToolCalls ? 'tool-calls' : 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    default:
      return hasToolCalls ? 'tool-calls' : 'other';
  }
}

/** Usage as reported, or undefined when the server sent none (unknown, not zero). */
export function usageOf(wire: WireUsage | null | undefined): Usage | undefined {
  if (!wire) return undefined;
  if (typeof wire.prompt_tokens !== 'number' && typeof wire.completion_tokens !== 'number') return undefined;
  const usage: Usage = { inputTokens: wire.prompt_tokens ?? 0, outputTokens: wire.completion_tokens ?? 0 };
  const cached = wire.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') usage.cachedInputTokens = cached;
  const reasoning = wire.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') {
    usage.reasoningTokens = reasoning;
    // OpenAI counts reasoning inside completion_tokens; xAI and some compatible servers report it beside
    // them (total = prompt + completion + reasoning). Budgets must see every token that is billed.
    const total = wire.total_tokens;
    if (
      reasoning > 0 &&
      typeof total === 'number' &&
      total >= usage.inputTokens + usage.outputTokens + reasoning
    ) {
      usage.outputTokens += reasoning;
    }
  }
  return usage;
}

/** Splits array content into answer text and reasoning (Mistral `thinking` parts). */
export function splitContentParts(parts: readonly WireContentPart[]): { text: string; reasoning: string } {
  let text = '';
  let reasoning = '';
  for (const part of parts) {
    if (part.type === 'thinking' || part.type === 'reasoning') {
      const thinking = part.thinking;
      if (typeof thinking === 'string') reasoning += thinking;
      else if (Array.isArray(thinking)) reasoning += thinking.map((piece) => piece.text ?? '').join('');
      else if (part.text) reasoning += part.text;
    } else if (part.text !== undefined && (part.type === undefined || part.type === 'text')) {
      text += part.text;
    }
  }
  return { text, reasoning };
}

/** The reasoning text of a message or delta: `reasoning_content` (DeepSeek, xAI, vLLM) or `reasoning`. */
export function reasoningOf(fields: {
  reasoning_content?: string | undefined;
  reasoning?: string | undefined;
}) {
  return fields.reasoning_content ?? fields.reasoning ?? '';
}

export function argumentText(wire: WireToolCall['function']): string {
  const args = wire?.arguments;
  if (args === null || args === undefined) return '';
  return typeof args === 'string' ? args : JSON.stringify(args);
}

/** Normalizes a non-streamed chat completion. */
export function fromCompletion(body: unknown, requestedModel: string, provider: string): ModelResponse {
  const parsed = completionSchema.safeParse(body);
  if (!parsed.success) {
    throw new BatonError(
      'PROVIDER_RESPONSE_INVALID',
      `${provider} ${requestedModel}: the response is not a chat completion (${parsed.error.issues[0]?.message ?? 'unexpected shape'})`,
      { details: { provider, model: requestedModel } },
    );
  }
  const completion: WireCompletion = parsed.data;
  const choice =
    completion.choices.find((candidate) => (candidate.index ?? 0) === 0) ?? completion.choices[0];
  if (!choice) {
    throw new BatonError(
      'PROVIDER_RESPONSE_INVALID',
      `${provider} ${requestedModel}: the response has no choices`,
      {
        details: { provider, model: requestedModel },
      },
    );
  }
  const message = choice.message;
  let text = '';
  let reasoning = reasoningOf(message);
  if (typeof message.content === 'string') text = message.content;
  else if (Array.isArray(message.content)) {
    const split = splitContentParts(message.content);
    text = split.text;
    reasoning += split.reasoning;
  }
  const toolCalls: ToolCall[] = [];
  for (const wire of message.tool_calls ?? []) {
    const name = wire.function?.name ?? '';
    const raw = argumentText(wire.function);
    if (name === '' && raw === '' && !wire.id) continue;
    toolCalls.push({ id: wire.id || generatedCallId(), name, ...parseToolArguments(raw) });
  }
  const raw = choice.finish_reason ?? undefined;
  let finishReason = finishReasonOf(raw, toolCalls.length > 0);
  if (text === '' && message.refusal) {
    text = message.refusal;
    finishReason = 'content-filter';
  }
  const response: ModelResponse = {
    model: completion.model || requestedModel,
    provider,
    text,
    toolCalls,
    finishReason,
  };
  if (completion.id) response.id = completion.id;
  if (raw !== undefined) response.finishReasonRaw = raw;
  if (reasoning !== '') response.reasoning = reasoning;
  const usage = usageOf(completion.usage);
  if (usage) response.usage = usage;
  return response;
}
