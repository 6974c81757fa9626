import type OpenAI from 'openai';
import type { Message, ModelRequest, ToolSpec } from '../../model/types.js';
import { isStrictCompatible } from '../../tools/define.js';
import { schemaName } from '../shared.js';

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ChatTool = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
type ChatToolChoice = OpenAI.Chat.Completions.ChatCompletionToolChoiceOption;
export type ChatBody = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

export interface ChatRequestSettings {
  model: string;
  /** api.openai.com itself (not a compatible server): `max_completion_tokens`, strict tools. */
  official: boolean;
  strictTools: boolean;
  maxOutputTokens: number | undefined;
  extraBody: Record<string, unknown> | undefined;
}

/** Reasoning models (o-series, gpt-5 family) reject a non-default temperature. */
const FIXED_TEMPERATURE = /^(o\d|gpt-5(?![\w.-]*-chat))/;

/** Builds a Chat Completions body (without `stream`) from a provider-neutral request. */
export function toChatBody(request: ModelRequest, settings: ChatRequestSettings): ChatBody {
  const body: ChatBody = { model: settings.model, messages: request.messages.map(toChatMessage) };
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => toChatTool(tool, settings.strictTools));
    if (request.toolChoice !== undefined) body.tool_choice = toToolChoice(request.toolChoice);
  }
  if (request.responseSchema) {
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: schemaName(request.responseSchema.name),
        schema: request.responseSchema.schema,
        strict: settings.official && isStrictCompatible(request.responseSchema.schema),
      },
    };
  }
  const maxTokens = request.maxOutputTokens ?? settings.maxOutputTokens;
  if (maxTokens !== undefined) {
    // api.openai.com deprecated `max_tokens` (reasoning models reject it); compatible servers often know only it.
    if (settings.official) body.max_completion_tokens = maxTokens;
    else body.max_tokens = maxTokens;
  }
  if (request.temperature !== undefined && !(settings.official && FIXED_TEMPERATURE.test(settings.model))) {
    body.temperature = request.temperature;
  }
  return settings.extraBody ? { ...body, ...settings.extraBody } : body;
}

function toChatMessage(message: Message): ChatMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: JSON.stringify(call.arguments ?? {}) },
        })),
      };
    }
  }
}

function toChatTool(tool: ToolSpec, strictTools: boolean): ChatTool {
  const definition: ChatTool['function'] = {
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
  };
  if (strictTools && tool.strict) definition.strict = true;
  return { type: 'function', function: definition };
}

function toToolChoice(choice: NonNullable<ModelRequest['toolChoice']>): ChatToolChoice {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}
