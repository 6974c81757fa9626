import type Anthropic from '@anthropic-ai/sdk';
import type { AssistantMessage, ModelRequest, ToolChoice, ToolSpec } from '../../model/types.js';
import { PROVIDER_TAG } from './normalize.js';

type MessageParam = Anthropic.Messages.MessageParam;
type ContentBlockParam = Anthropic.Messages.ContentBlockParam;
type ToolParam = Anthropic.Messages.Tool;
type TextBlockParam = Anthropic.Messages.TextBlockParam;
export type MessagesBody = Anthropic.Messages.MessageCreateParamsNonStreaming;

/** Extended thinking: a token budget, or adaptive (the model decides). */
export type AnthropicThinking = { budgetTokens: number } | { type: 'adaptive' };

export interface MessagesRequestSettings {
  model: string;
  maxOutputTokens: number | undefined;
  thinking: AnthropicThinking | undefined;
  promptCaching: boolean;
  structuredOutput: boolean;
  extraBody: Record<string, unknown> | undefined;
}

export const DEFAULT_MAX_TOKENS = 4096;

/**
 * Builds a Messages API body. System messages go to the top-level `system` field; tool results become
 * `tool_result` blocks in a user turn (consecutive ones merged, paired by `tool_use_id`); assistant
 * turns carry their `tool_use` blocks and, first, the thinking blocks Anthropic gave (sent back
 * unchanged, as the API requires when tool use continues).
 */
export function toMessagesBody(request: ModelRequest, settings: MessagesRequestSettings): MessagesBody {
  const systemText = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .filter((content) => content.trim() !== '')
    .join('\n\n');
  const messages: MessageParam[] = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) {
    if (message.role === 'user') {
      if (message.content !== '') append('user', [{ type: 'text', text: message.content }]);
    } else if (message.role === 'tool') {
      const result: Anthropic.Messages.ToolResultBlockParam = {
        type: 'tool_result',
        tool_use_id: message.toolCallId,
        content: message.content,
      };
      if (message.isError) result.is_error = true;
      append('user', [result]);
    } else if (message.role === 'assistant') {
      append('assistant', assistantBlocks(message));
    }
  }

  const thinking = settings.thinking;
  const budget = thinking && 'budgetTokens' in thinking ? thinking.budgetTokens : 0;
  const body: MessagesBody = {
    model: settings.model,
    max_tokens: request.maxOutputTokens ?? settings.maxOutputTokens ?? DEFAULT_MAX_TOKENS + budget,
    messages,
  };
  if (systemText !== '') {
    if (settings.promptCaching) {
      const block: TextBlockParam = { type: 'text', text: systemText, cache_control: { type: 'ephemeral' } };
      body.system = [block];
    } else {
      body.system = systemText;
    }
  }
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map(toTool);
    if (settings.promptCaching) {
      const last = body.tools.at(-1) as ToolParam;
      last.cache_control = { type: 'ephemeral' };
    }
    if (request.toolChoice !== undefined) body.tool_choice = toToolChoice(request.toolChoice);
  }
  if (request.responseSchema && settings.structuredOutput) {
    body.output_config = { format: { type: 'json_schema', schema: request.responseSchema.schema } };
  }
  if (thinking) {
    body.thinking =
      'budgetTokens' in thinking ? { type: 'enabled', budget_tokens: budget } : { type: 'adaptive' };
  }
  // `request.temperature` is not sent: API version 2026-10-21 (the one @anthropic-ai/sdk 1.x speaks)
  // removed the sampling parameters and rejects a request that carries one.
  return settings.extraBody ? { ...body, ...settings.extraBody } : body;
}

function assistantBlocks(message: AssistantMessage): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  for (const part of message.reasoning ?? []) {
    // Reasoning from another provider has no signature Anthropic could verify: it stays behind.
    if (part.provider !== undefined && part.provider !== PROVIDER_TAG) continue;
    if (part.redactedData !== undefined) blocks.push({ type: 'redacted_thinking', data: part.redactedData });
    else if (part.signature !== undefined) {
      blocks.push({ type: 'thinking', thinking: part.text, signature: part.signature });
    }
  }
  if (message.content !== '') blocks.push({ type: 'text', text: message.content });
  for (const call of message.toolCalls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) });
  }
  return blocks;
}

function toolInput(args: unknown): Record<string, unknown> {
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : {};
}

function toTool(tool: ToolSpec): ToolParam {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: { ...tool.parameters, type: 'object' },
  };
}

function toToolChoice(choice: ToolChoice): Anthropic.Messages.ToolChoice {
  switch (choice) {
    case 'auto':
      return { type: 'auto' };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any' };
    default:
      return { type: 'tool', name: choice.name };
  }
}
