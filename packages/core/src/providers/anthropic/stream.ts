import { BatonError } from '../../errors.js';
import type { ModelResponse, ModelStreamEvent, ReasoningPart, ToolCall } from '../../model/types.js';
import { generatedCallId, parseToolArguments } from '../shared.js';
import { PROVIDER_TAG, reasoningText, stopReasonOf, usageOf } from './normalize.js';
import { streamEventSchema, type WireUsage } from './wire.js';

type Block =
  | { kind: 'text'; text: string }
  | { kind: 'thinking'; text: string; signature: string | undefined }
  | { kind: 'redacted'; data: string }
  | {
      kind: 'tool';
      position: number;
      id: string;
      name: string;
      json: string;
      sawDelta: boolean;
      initial: unknown;
    }
  | { kind: 'other' };

/**
 * Assembles a Messages API event stream (`message_start`, `content_block_*` with `text_delta`,
 * `input_json_delta`, `thinking_delta`, `signature_delta`, `message_delta`, `message_stop`) into
 * deltas and a final response. A stream that ends before `message_stop` is an error, never a result.
 */
export class MessageStreamAssembler {
  readonly #requestedModel: string;
  readonly #provider: string;
  #id: string | undefined;
  #model: string | undefined;
  #startUsage: WireUsage | undefined;
  #deltaUsage: WireUsage | undefined;
  #stopReason: string | undefined;
  #stopped = false;
  readonly #blocks = new Map<number, Block>();
  #toolCount = 0;

  constructor(requestedModel: string, provider: string) {
    this.#requestedModel = requestedModel;
    this.#provider = provider;
  }

  push(payload: unknown): ModelStreamEvent[] {
    const type = (payload as { type?: unknown } | null)?.type;
    const parsed = streamEventSchema.safeParse(payload);
    if (!parsed.success) {
      // Event types added after this adapter was written are skipped; known ones must be well formed.
      if (typeof type === 'string' && !KNOWN_EVENTS.has(type)) return [];
      throw this.invalid(
        `unexpected ${String(type)} event (${parsed.error.issues[0]?.message ?? 'bad shape'})`,
      );
    }
    const event = parsed.data;
    const events: ModelStreamEvent[] = [];
    switch (event.type) {
      case 'message_start':
        this.#id = event.message.id ?? undefined;
        this.#model = event.message.model ?? undefined;
        this.#startUsage = event.message.usage ?? undefined;
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') {
          this.#blocks.set(event.index, { kind: 'text', text: block.text ?? '' });
          if (block.text) events.push({ type: 'text-delta', text: block.text });
        } else if (block.type === 'thinking') {
          this.#blocks.set(event.index, {
            kind: 'thinking',
            text: block.thinking ?? '',
            signature: block.signature,
          });
          if (block.thinking) events.push({ type: 'reasoning-delta', text: block.thinking });
        } else if (block.type === 'redacted_thinking') {
          this.#blocks.set(event.index, { kind: 'redacted', data: block.data ?? '' });
        } else if (block.type === 'tool_use') {
          const tool = {
            kind: 'tool' as const,
            position: this.#toolCount++,
            id: block.id ?? generatedCallId(),
            name: block.name ?? '',
            json: '',
            sawDelta: false,
            initial: block.input,
          };
          this.#blocks.set(event.index, tool);
          events.push({ type: 'tool-call-start', index: tool.position, id: tool.id, name: tool.name });
        } else {
          this.#blocks.set(event.index, { kind: 'other' });
        }
        break;
      }
      case 'content_block_delta': {
        const block = this.#blocks.get(event.index);
        if (!block) throw this.invalid(`a delta for content block ${event.index}, which never started`);
        const delta = event.delta;
        if (delta.type === 'text_delta' && block.kind === 'text' && delta.text) {
          block.text += delta.text;
          events.push({ type: 'text-delta', text: delta.text });
        } else if (delta.type === 'thinking_delta' && block.kind === 'thinking' && delta.thinking) {
          block.text += delta.thinking;
          events.push({ type: 'reasoning-delta', text: delta.thinking });
        } else if (delta.type === 'signature_delta' && block.kind === 'thinking' && delta.signature) {
          block.signature = (block.signature ?? '') + delta.signature;
        } else if (delta.type === 'input_json_delta' && block.kind === 'tool') {
          block.sawDelta = true;
          const piece = delta.partial_json ?? '';
          block.json += piece;
          if (piece !== '')
            events.push({ type: 'tool-call-delta', index: block.position, argumentsDelta: piece });
        }
        break;
      }
      case 'message_delta':
        if (event.delta.stop_reason) this.#stopReason = event.delta.stop_reason;
        if (event.usage) this.#deltaUsage = event.usage;
        break;
      case 'message_stop':
        this.#stopped = true;
        break;
      default:
        break;
    }
    return events;
  }

  finish(): ModelResponse {
    if (!this.#stopped) throw this.invalid('the stream ended before message_stop');
    let text = '';
    const toolCalls: ToolCall[] = [];
    const reasoningParts: ReasoningPart[] = [];
    for (const index of [...this.#blocks.keys()].sort((a, b) => a - b)) {
      const block = this.#blocks.get(index) as Block;
      if (block.kind === 'text') text += block.text;
      else if (block.kind === 'thinking') {
        const part: ReasoningPart = { text: block.text, provider: PROVIDER_TAG };
        if (block.signature !== undefined) part.signature = block.signature;
        reasoningParts.push(part);
      } else if (block.kind === 'redacted') {
        reasoningParts.push({ text: '', redactedData: block.data, provider: PROVIDER_TAG });
      } else if (block.kind === 'tool') {
        // Input arrives as input_json_delta pieces; a tool with no arguments sends only ''.
        const args = block.sawDelta
          ? parseToolArguments(block.json)
          : { arguments: isEmptyInput(block.initial) ? {} : block.initial };
        toolCalls.push({ id: block.id, name: block.name, ...args });
      }
    }
    const response: ModelResponse = {
      model: this.#model ?? this.#requestedModel,
      provider: this.#provider,
      text,
      toolCalls,
      finishReason: stopReasonOf(this.#stopReason, toolCalls.length > 0),
    };
    if (this.#id) response.id = this.#id;
    if (this.#stopReason !== undefined) response.finishReasonRaw = this.#stopReason;
    if (reasoningParts.length > 0) {
      response.reasoningParts = reasoningParts;
      const reasoning = reasoningText(reasoningParts);
      if (reasoning !== '') response.reasoning = reasoning;
    }
    const usage = usageOf(mergeUsage(this.#startUsage, this.#deltaUsage));
    if (usage) response.usage = usage;
    return response;
  }

  private invalid(what: string): BatonError {
    return new BatonError('PROVIDER_RESPONSE_INVALID', `${this.#provider} ${this.#requestedModel}: ${what}`, {
      details: { provider: this.#provider, model: this.#requestedModel },
    });
  }
}

const KNOWN_EVENTS = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
]);

/** `message_delta` usage is cumulative and final; fields it leaves out keep their `message_start` value. */
function mergeUsage(start: WireUsage | undefined, delta: WireUsage | undefined): WireUsage | undefined {
  if (!start) return delta;
  if (!delta) return start;
  const merged: WireUsage = { ...start };
  for (const key of [
    'input_tokens',
    'output_tokens',
    'cache_read_input_tokens',
    'cache_creation_input_tokens',
    'output_tokens_details',
  ] as const) {
    const value = delta[key];
    if (value !== null && value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

function isEmptyInput(input: unknown): boolean {
  return (
    input === undefined ||
    input === null ||
    input === '' ||
    (typeof input === 'object' && Object.keys(input as object).length === 0)
  );
}
