import {
  argumentText,
  defaultErrorMessage,
  type JsonBody,
  pieces,
  type RenderContext,
  type SseEvent,
  usageOf,
} from './render.js';
import type { ErrorReply, ModerationReply, ModerationResultReply, TurnReply } from './types.js';

/** Chat Completions wire format: a `chat.completion` body, or `chat.completion.chunk` events ending with `[DONE]`. */

function wireUsage(reply: TurnReply) {
  const usage = usageOf(reply);
  if (!usage) return undefined;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

function finishReason(reply: TurnReply): string {
  return reply.finishReason ?? ((reply.toolCalls ?? []).length > 0 ? 'tool_calls' : 'stop');
}

function callId(reply: TurnReply, context: RenderContext, position: number): string {
  return reply.toolCalls?.[position]?.id ?? `call_${context.index}_${position}`;
}

export function openaiJson(reply: TurnReply, context: RenderContext): JsonBody {
  const calls = reply.toolCalls ?? [];
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: reply.text ?? (calls.length > 0 ? null : ''),
    refusal: null,
  };
  if (reply.reasoning) message.reasoning_content = reply.reasoning;
  if (calls.length > 0) {
    message.tool_calls = calls.map((call, position) => ({
      id: callId(reply, context, position),
      type: 'function',
      function: { name: call.name, arguments: argumentText(call) },
    }));
  }
  const body: Record<string, unknown> = {
    id: reply.id ?? `chatcmpl-${context.index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: reply.model ?? context.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
  };
  const usage = wireUsage(reply);
  if (usage) body.usage = usage;
  return { status: 200, body: JSON.stringify(body) };
}

export function openaiEvents(reply: TurnReply, context: RenderContext): SseEvent[] {
  const size = reply.chunkSize ?? 4;
  const base = {
    id: reply.id ?? `chatcmpl-${context.index}`,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: reply.model ?? context.model,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    data: JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }),
  });
  const events: SseEvent[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const piece of pieces(reply.reasoning ?? '', size)) events.push(chunk({ reasoning_content: piece }));
  for (const piece of pieces(reply.text ?? '', size)) events.push(chunk({ content: piece }));
  for (const [position, call] of (reply.toolCalls ?? []).entries()) {
    events.push(
      chunk({
        tool_calls: [
          {
            index: position,
            id: callId(reply, context, position),
            type: 'function',
            function: { name: call.name, arguments: '' },
          },
        ],
      }),
    );
    for (const piece of pieces(argumentText(call), size)) {
      events.push(chunk({ tool_calls: [{ index: position, function: { arguments: piece } }] }));
    }
  }
  events.push(chunk({}, finishReason(reply)));
  const usage = wireUsage(reply);
  if (usage && context.includeUsage) events.push({ data: JSON.stringify({ ...base, choices: [], usage }) });
  events.push({ data: '[DONE]' });
  return events;
}

export function openaiStreamError(error: { type: string; message: string }): SseEvent {
  return {
    data: JSON.stringify({ error: { message: error.message, type: error.type, param: null, code: null } }),
  };
}

const OPENAI_ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

export function openaiErrorBody(reply: ErrorReply): string {
  if (reply.body !== undefined)
    return typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const known = OPENAI_ERROR_TYPES[reply.status] ?? {
    type: reply.status >= 500 ? 'server_error' : 'invalid_request_error',
    code: null,
  };
  return JSON.stringify({
    error: {
      message: defaultErrorMessage(reply),
      type: reply.errorType ?? known.type,
      param: null,
      code: reply.code ?? known.code,
    },
  });
}

/** The categories of OpenAI's omni-moderation models, in the order the API lists them. */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

/** A moderation response for `body.input` (a string or an array: one result per element). */
export function openaiModerationJson(
  reply: ModerationReply,
  context: RenderContext,
  body: Record<string, unknown>,
): JsonBody {
  const inputs = Array.isArray(body.input) ? body.input.length : 1;
  const defaults = Array.from({ length: Math.max(1, inputs) }, (): ModerationResultReply => ({}));
  const results = (reply.results ?? defaults).map((result) => {
    const scores: Record<string, number> = {};
    const categories: Record<string, boolean> = {};
    const applied: Record<string, string[]> = {};
    for (const category of MODERATION_CATEGORIES) scores[category] = 0.0001;
    Object.assign(scores, result.categoryScores);
    for (const [category, score] of Object.entries(scores)) {
      categories[category] = score >= 0.5;
      applied[category] = ['text'];
    }
    return {
      flagged: result.flagged ?? Object.values(categories).some(Boolean),
      categories,
      category_scores: scores,
      category_applied_input_types: applied,
    };
  });
  const model = reply.model ?? (context.model === 'unknown-model' ? 'omni-moderation-latest' : context.model);
  return {
    status: 200,
    body: JSON.stringify({ id: reply.id ?? `modr-${context.index}`, model, results }),
  };
}
