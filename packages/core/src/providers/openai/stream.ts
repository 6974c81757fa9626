import { BatonError } from '../../errors.js';
import type { ModelResponse, ModelStreamEvent, ToolCall } from '../../model/types.js';
import { generatedCallId, parseToolArguments } from '../shared.js';
import { argumentText, finishReasonOf, reasoningOf, splitContentParts, usageOf } from './normalize.js';
import { chunkSchema, type WireToolCall, type WireUsage } from './wire.js';

interface ToolSlot {
  /** Position in the response's tool calls, and the index of its stream events. */
  position: number;
  /** The id the server sent, if any. */
  id: string | undefined;
  /** The id announced in `tool-call-start` (the server's, or one we made up). */
  emittedId: string | undefined;
  name: string;
  args: string;
  started: boolean;
}

/**
 * Assembles a chat-completion stream into deltas and a final response. Tolerates what real servers do:
 * a placeholder first chunk, `choices: []` usage-only chunks, empty `tool_calls: []`, arguments split
 * over many tiny chunks, a whole call in one delta, `index` missing or sent after the other keys, a call
 * that reuses index 0 with a new id, and no usage at all (reported as unknown).
 */
export class ChatStreamAssembler {
  readonly #requestedModel: string;
  readonly #provider: string;
  #id: string | undefined;
  #model: string | undefined;
  #text = '';
  #reasoning = '';
  #finishReason: string | undefined;
  #usage: WireUsage | undefined;
  readonly #slots: ToolSlot[] = [];
  /** Wire index → the slot it currently feeds. */
  readonly #byIndex = new Map<number, ToolSlot>();

  constructor(requestedModel: string, provider: string) {
    this.#requestedModel = requestedModel;
    this.#provider = provider;
  }

  /** Feeds one parsed SSE payload and returns the deltas it carries. */
  push(payload: unknown): ModelStreamEvent[] {
    const parsed = chunkSchema.safeParse(payload);
    if (!parsed.success) {
      throw new BatonError(
        'PROVIDER_RESPONSE_INVALID',
        `${this.#provider} ${this.#requestedModel}: unexpected stream chunk (${parsed.error.issues[0]?.message ?? 'bad shape'})`,
        { details: { provider: this.#provider, model: this.#requestedModel } },
      );
    }
    const chunk = parsed.data;
    this.#id ??= chunk.id || undefined;
    this.#model ??= chunk.model || undefined;
    if (chunk.usage) this.#usage = chunk.usage;
    const events: ModelStreamEvent[] = [];
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta;
      if (delta) {
        let reasoning = reasoningOf(delta);
        let text = '';
        if (typeof delta.content === 'string') text = delta.content;
        else if (Array.isArray(delta.content)) {
          const split = splitContentParts(delta.content);
          text = split.text;
          reasoning += split.reasoning;
        }
        if (reasoning !== '') {
          this.#reasoning += reasoning;
          events.push({ type: 'reasoning-delta', text: reasoning });
        }
        if (text !== '') {
          this.#text += text;
          events.push({ type: 'text-delta', text });
        }
        for (const call of delta.tool_calls ?? []) this.applyToolDelta(call, events);
      }
      if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    }
    return events;
  }

  /** The final response; throws when the stream ended before the server said it was done. */
  finish(): ModelResponse {
    if (this.#finishReason === undefined) {
      throw new BatonError(
        'PROVIDER_RESPONSE_INVALID',
        `${this.#provider} ${this.#requestedModel}: the stream ended before the response was complete (no finish reason)`,
        {
          details: { provider: this.#provider, model: this.#requestedModel, receivedText: this.#text.length },
        },
      );
    }
    const toolCalls: ToolCall[] = this.#slots
      .filter((slot) => slot.name !== '' || slot.args !== '' || slot.id !== undefined)
      .map((slot) => ({
        id: slot.emittedId ?? slot.id ?? generatedCallId(),
        name: slot.name,
        ...parseToolArguments(slot.args),
      }));
    const response: ModelResponse = {
      model: this.#model ?? this.#requestedModel,
      provider: this.#provider,
      text: this.#text,
      toolCalls,
      finishReason: finishReasonOf(this.#finishReason, toolCalls.length > 0),
      finishReasonRaw: this.#finishReason,
    };
    if (this.#id) response.id = this.#id;
    if (this.#reasoning !== '') response.reasoning = this.#reasoning;
    const usage = usageOf(this.#usage);
    if (usage) response.usage = usage;
    return response;
  }

  private applyToolDelta(call: WireToolCall, events: ModelStreamEvent[]): void {
    const id = call.id || undefined;
    const name = call.function?.name || undefined;
    const args = argumentText(call.function);
    let slot = this.slotFor(call.index ?? undefined, id);
    if (!slot) {
      if (!id && !name && args === '') return;
      slot = { position: this.#slots.length, id, emittedId: undefined, name: '', args: '', started: false };
      this.#slots.push(slot);
    }
    this.#byIndex.set(call.index ?? slot.position, slot);
    slot.id ??= id;
    // Some servers repeat the name on every chunk: keep the first, never concatenate.
    if (name && slot.name === '') slot.name = name;
    slot.args += args;
    if (!slot.started) {
      if (slot.name === '') return;
      slot.emittedId = slot.id ?? generatedCallId();
      slot.started = true;
      events.push({ type: 'tool-call-start', index: slot.position, id: slot.emittedId, name: slot.name });
      if (slot.args !== '')
        events.push({ type: 'tool-call-delta', index: slot.position, argumentsDelta: slot.args });
      return;
    }
    if (args !== '') events.push({ type: 'tool-call-delta', index: slot.position, argumentsDelta: args });
  }

  private slotFor(index: number | undefined, id: string | undefined): ToolSlot | undefined {
    if (index !== undefined) {
      const slot = this.#byIndex.get(index);
      // Same index, different id: a server that numbers every parallel call 0.
      if (slot && id && slot.id && slot.id !== id) return undefined;
      return slot;
    }
    if (id) return this.#slots.find((slot) => slot.id === id);
    return this.#slots.at(-1);
  }
}
