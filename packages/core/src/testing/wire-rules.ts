import type { Message, ToolSpec } from '../model/types.js';
import { toMessagesBody } from '../providers/anthropic/request.js';
import { toChatBody } from '../providers/openai/request.js';

/** One broken rule: which, where (the message's index in the wire body) and what is wrong. */
export interface WireViolation {
  rule: string;
  index: number;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The rules of OpenAI Chat Completions' `messages` that a conversation can break (what the API answers
 * 400 to), checked on a request body as it goes on the wire:
 * - `messages-nonempty`: at least one message;
 * - `role`: system, developer, user, assistant or tool;
 * - `assistant-content`: an assistant message has text or tool calls (null content only with tool calls);
 * - `tool-call-shape`: each tool call has a unique non-empty id, type function, a name, and arguments that
 *   are a JSON object in a string;
 * - `tool-calls-answered`: an assistant message with tool calls is followed directly by one tool message
 *   per call id (in any order) before any other message;
 * - `tool-answers-call`: a tool message answers a call of the assistant message right before its group,
 *   once (no orphan, no duplicate);
 * - `content-string`: system, user and tool content is a string (or an array of parts).
 */
export function checkOpenAIWire(body: { messages?: unknown }): WireViolation[] {
  const violations: WireViolation[] = [];
  const fail = (rule: string, index: number, message: string) => violations.push({ rule, index, message });
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (messages.length === 0) fail('messages-nonempty', 0, 'messages is empty');
  const seenIds = new Set<string>();
  let open: Set<string> | undefined; // the calls of the assistant message whose answers may follow
  let answered = new Set<string>();
  const closeGroup = (index: number) => {
    for (const id of open ?? []) {
      if (!answered.has(id))
        fail('tool-calls-answered', index, `tool call ${id} has no tool message after it`);
    }
    open = undefined;
  };
  for (const [index, raw] of messages.entries()) {
    if (!isObject(raw)) {
      fail('role', index, 'a message is not an object');
      continue;
    }
    const role = raw.role;
    if (role !== 'tool') closeGroup(index);
    if (role === 'system' || role === 'developer' || role === 'user') {
      if (typeof raw.content !== 'string' && !Array.isArray(raw.content)) {
        fail('content-string', index, `${role} content is not a string`);
      }
    } else if (role === 'assistant') {
      const calls = Array.isArray(raw.tool_calls) ? raw.tool_calls : [];
      if (raw.content === null || raw.content === undefined) {
        if (calls.length === 0)
          fail('assistant-content', index, 'an assistant message with no content and no tool calls');
      } else if (typeof raw.content !== 'string')
        fail('assistant-content', index, 'assistant content is not a string');
      open = new Set();
      answered = new Set();
      for (const call of calls) {
        const id = isObject(call) && typeof call.id === 'string' ? call.id : '';
        const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
        if (id === '' || seenIds.has(id))
          fail('tool-call-shape', index, `tool call id "${id}" is empty or repeated`);
        if (!isObject(call) || call.type !== 'function' || typeof fn?.name !== 'string' || fn.name === '') {
          fail('tool-call-shape', index, `tool call ${id} is not a named function call`);
        }
        if (!isJsonObjectText(fn?.arguments)) {
          fail('tool-call-shape', index, `tool call ${id} arguments are not a JSON object in a string`);
        }
        seenIds.add(id);
        open.add(id);
      }
      if (calls.length === 0) open = undefined;
    } else if (role === 'tool') {
      const id = typeof raw.tool_call_id === 'string' ? raw.tool_call_id : '';
      if (!open?.has(id))
        fail('tool-answers-call', index, `tool message ${id} answers no call right before it`);
      else if (answered.has(id)) fail('tool-answers-call', index, `tool call ${id} is answered twice`);
      answered.add(id);
      if (typeof raw.content !== 'string' && !Array.isArray(raw.content)) {
        fail('content-string', index, 'tool content is not a string');
      }
    } else fail('role', index, `unknown role ${String(role)}`);
  }
  closeGroup(messages.length);
  return violations;
}

/**
 * The rules of Anthropic Messages' `messages` that a conversation can break, checked on a request body:
 * - `first-user`: the first message is a user turn;
 * - `alternation`: user and assistant turns alternate (no two in a row of the same role);
 * - `nonempty`: no turn without content, no text block that is empty or only whitespace, no empty tool result;
 * - `tool-use-shape`: tool_use ids are unique and non-empty, with a name and an object input;
 * - `tool-results-follow`: every tool_use is answered by a tool_result in the very next (user) turn;
 * - `tool-result-matches`: every tool_result answers a tool_use of the turn right before it, once;
 * - `tool-results-first`: in a user turn, tool_result blocks come before any other block;
 * - `ends-with-user`: the last turn is the user's (Baton never prefills an assistant turn);
 * - `system`: the system prompt, when present, is not empty.
 */
export function checkAnthropicWire(body: { messages?: unknown; system?: unknown }): WireViolation[] {
  const violations: WireViolation[] = [];
  const fail = (rule: string, index: number, message: string) => violations.push({ rule, index, message });
  if (
    body.system !== undefined &&
    (body.system === '' || (Array.isArray(body.system) && body.system.length === 0))
  ) {
    fail('system', -1, 'the system prompt is empty');
  }
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (messages.length === 0) fail('nonempty', 0, 'messages is empty');
  const ids = new Set<string>();
  let previousUses: string[] = [];
  let previousRole: unknown;
  for (const [index, raw] of messages.entries()) {
    if (!isObject(raw) || (raw.role !== 'user' && raw.role !== 'assistant')) {
      fail('alternation', index, 'a turn is neither user nor assistant');
      continue;
    }
    const role = raw.role;
    if (index === 0 && role !== 'user') fail('first-user', index, 'the first turn is not the user’s');
    if (role === previousRole) fail('alternation', index, `two ${role} turns in a row`);
    const blocks: Json[] =
      typeof raw.content === 'string'
        ? [{ type: 'text', text: raw.content }]
        : Array.isArray(raw.content)
          ? raw.content.filter(isObject)
          : [];
    if (blocks.length === 0) fail('nonempty', index, `a ${role} turn has no content`);
    const uses: string[] = [];
    const results: string[] = [];
    let otherSeen = false;
    for (const block of blocks) {
      if (block.type === 'text' && (typeof block.text !== 'string' || block.text.trim() === '')) {
        fail('nonempty', index, 'an empty text block');
      }
      if (block.type === 'tool_use') {
        const id = typeof block.id === 'string' ? block.id : '';
        if (role !== 'assistant') fail('tool-use-shape', index, 'a tool_use in a user turn');
        if (id === '' || ids.has(id))
          fail('tool-use-shape', index, `tool_use id "${id}" is empty or repeated`);
        if (typeof block.name !== 'string' || block.name === '' || !isObject(block.input)) {
          fail('tool-use-shape', index, `tool_use ${id} has no name or a non-object input`);
        }
        ids.add(id);
        uses.push(id);
      } else if (block.type === 'tool_result') {
        const id = typeof block.tool_use_id === 'string' ? block.tool_use_id : '';
        if (role !== 'user') fail('tool-result-matches', index, 'a tool_result in an assistant turn');
        if (otherSeen) fail('tool-results-first', index, `tool_result ${id} comes after another block`);
        if (!previousUses.includes(id)) {
          fail('tool-result-matches', index, `tool_result ${id} answers no tool_use of the turn before`);
        } else if (results.includes(id)) fail('tool-result-matches', index, `tool_use ${id} answered twice`);
        const content = block.content;
        if (content === undefined || content === '' || (Array.isArray(content) && content.length === 0)) {
          fail('nonempty', index, `tool_result ${id} is empty`);
        }
        results.push(id);
      } else otherSeen = true;
    }
    for (const id of previousUses) {
      if (!results.includes(id))
        fail('tool-results-follow', index, `tool_use ${id} has no tool_result right after it`);
    }
    previousUses = uses;
    previousRole = role;
  }
  if (previousUses.length > 0) {
    for (const id of previousUses) {
      fail('tool-results-follow', messages.length, `tool_use ${id} has no tool_result right after it`);
    }
  }
  if (previousRole !== undefined && previousRole !== 'user') {
    fail('ends-with-user', messages.length - 1, 'the last turn is not the user’s');
  }
  return violations;
}

/**
 * Converts Baton messages with the real request builders of both providers (the bodies their SDKs send)
 * and checks each body's wire rules. Empty lists mean both providers would accept the conversation.
 */
export function checkWireRules(
  messages: readonly Message[],
  tools: readonly ToolSpec[] = [],
): { openai: WireViolation[]; anthropic: WireViolation[] } {
  const request = { messages: [...messages], tools: [...tools] };
  const chat = toChatBody(request, {
    model: 'gpt-4.1-mini',
    official: true,
    strictTools: true,
    maxOutputTokens: undefined,
    extraBody: undefined,
  });
  const anthropic = toMessagesBody(request, {
    model: 'claude-haiku-4-5',
    maxOutputTokens: undefined,
    thinking: undefined,
    promptCaching: false,
    structuredOutput: false,
    extraBody: undefined,
  });
  return {
    openai: checkOpenAIWire(chat as unknown as Json),
    anthropic: checkAnthropicWire(anthropic as unknown as Json),
  };
}

function isJsonObjectText(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return isObject(JSON.parse(value));
  } catch {
    return false;
  }
}
