import { BatonError } from '../errors.js';
import type { Message } from '../model/types.js';
import { countTokens } from '../tokens.js';
import type { ContextNote, ContextView, Turn } from './types.js';

/**
 * The preamble of a transcript whose length was not recorded (a RunState from before the pipeline):
 * everything before the first assistant message.
 */
export function preambleOf(messages: readonly Message[]): number {
  const first = messages.findIndex((message) => message.role === 'assistant');
  return first < 0 ? messages.length : first;
}

/**
 * Splits a transcript into the preamble and its turns. Messages between the preamble and the first
 * assistant message (there are none in a run the loop built) stay with the preamble, so nothing is lost.
 */
export function viewOf(messages: readonly Message[], preamble: number): ContextView {
  let end = Math.min(Math.max(0, preamble), messages.length);
  while (end < messages.length && messages[end]?.role !== 'assistant') end++;
  const turns: Turn[] = [];
  let current: Message[] | undefined;
  for (let index = end; index < messages.length; index++) {
    const message = messages[index] as Message;
    if (message.role === 'assistant') {
      current = [message];
      turns.push({ index: turns.length + 1, messages: current });
    } else current?.push(message);
  }
  return { preamble: messages.slice(0, end), notes: [], turns };
}

/** The header of the user message that carries the pipeline's notes. */
export const NOTES_HEADER =
  '[Context notes: added by the context pipeline to replace earlier parts of this conversation, not written by the user.]';

/** The messages a view is sent as: the preamble, one user message holding the notes, then the turns. */
export function messagesOf(view: ContextView): Message[] {
  const messages: Message[] = [...view.preamble];
  const note = notesMessage(view.notes);
  if (note) messages.push(note);
  for (const turn of view.turns) messages.push(...turn.messages);
  return messages;
}

export function notesMessage(notes: readonly ContextNote[]): Message | undefined {
  const texts = notes.map((note) => note.text.trim()).filter((text) => text !== '');
  if (texts.length === 0) return undefined;
  return { role: 'user', content: [NOTES_HEADER, ...texts].join('\n\n') };
}

// Messages are immutable once in the transcript, so each is tokenized once per run, not once per step.
const counted = new WeakMap<Message, number>();

/** Tokens of a message: its content, and the names and arguments of its tool calls. */
export async function messageTokens(message: Message): Promise<number> {
  const known = counted.get(message);
  if (known !== undefined) return known;
  let text = message.content;
  if (message.role === 'assistant') {
    for (const call of message.toolCalls ?? [])
      text += `\n${call.name} ${JSON.stringify(call.arguments ?? {})}`;
  }
  const tokens = await countTokens(text);
  counted.set(message, tokens);
  return tokens;
}

export async function messagesTokens(messages: readonly Message[]): Promise<number> {
  let total = 0;
  for (const message of messages) total += await messageTokens(message);
  return total;
}

export async function viewTokens(view: ContextView): Promise<number> {
  let total = await messagesTokens(view.preamble);
  const note = notesMessage(view.notes);
  if (note) total += await messageTokens(note);
  for (const turn of view.turns) total += await messagesTokens(turn.messages);
  return total;
}

/** The ids of an assistant message's tool calls, or none. */
export function callIds(message: Message): string[] {
  return message.role === 'assistant' ? (message.toolCalls ?? []).map((call) => call.id) : [];
}

/**
 * What a stage may do, checked after each stage: keep the preamble as it is, keep turns in order and only
 * drop them whole, and inside a kept turn change nothing but the text of tool results (never to empty).
 * Anything else would send a conversation a provider rejects, or one that says something that did not
 * happen; it is a broken stage, named in a CONFIG_INVALID error.
 */
export function checkStageOutput(before: ContextView, after: ContextView, where: string): void {
  const fail = (why: string) =>
    new BatonError('CONFIG_INVALID', `${where} broke the conversation: ${why}`, {
      details: { field: where },
      hint: 'A context stage may drop whole turns, shorten tool results and add notes; nothing else.',
    });
  if (
    after.preamble.length !== before.preamble.length ||
    after.preamble.some((message, index) => message !== before.preamble[index])
  ) {
    throw fail('it changed the system prompt, the history or the task');
  }
  const originals = new Map(before.turns.map((turn) => [turn.index, turn]));
  let last = 0;
  for (const turn of after.turns) {
    const original = originals.get(turn.index);
    if (!original) throw fail(`turn ${turn.index} is not one it was given`);
    if (turn.index <= last) throw fail('it reordered or repeated turns');
    last = turn.index;
    if (turn.messages.length !== original.messages.length) {
      throw fail(`it removed or added messages inside turn ${turn.index}`);
    }
    for (const [position, message] of turn.messages.entries()) {
      const was = original.messages[position] as Message;
      if (message === was) continue;
      if (message.role !== 'tool' || was.role !== 'tool' || message.toolCallId !== was.toolCallId) {
        throw fail(`it changed a message of turn ${turn.index} other than a tool result's text`);
      }
      if (message.content.trim() === '') throw fail(`it left an empty tool result in turn ${turn.index}`);
    }
  }
  for (const note of after.notes) {
    if (typeof note?.kind !== 'string' || typeof note.text !== 'string')
      throw fail('it added a malformed note');
  }
}
