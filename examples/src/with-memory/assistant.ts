/**
 * The sous-chef: a cooking assistant with long-term memory tools, on a deterministic, rule-based stand-in
 * for a language model — **not an LLM** — so the example runs offline and always takes the same steps.
 * The rules read what a model would read: the user's message, and the memories the run put into the
 * system prompt. Every request the model receives is appended to a file, the example's side channel.
 */
import { appendFileSync } from 'node:fs';
import {
  abortReason,
  countTokens,
  defineAgent,
  type MemoryStore,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
  memoryTools,
  unwrapUntrusted,
} from '@baton/core';

/** One request as the model received it, as the side channel keeps it. */
export interface LoggedRequest {
  session: string;
  pid: number;
  system: string;
  user: string;
  /** The last message was a tool result (the model is asked to go on after its calls). */
  afterTool: boolean;
}

/** A memory as the run renders it for the model (inside the <untrusted_data source="memory"> block). */
interface RenderedMemory {
  kind: string;
  key: string;
  value: string;
}

interface Dish {
  name: string;
  vegetarian: boolean;
  metric: string;
  imperial: string;
}

const DISHES: readonly Dish[] = [
  {
    name: 'mushroom risotto',
    vegetarian: true,
    metric: '300 g arborio rice, 250 g mushrooms, 1 l vegetable stock',
    imperial: '1½ cups arborio rice, 9 oz mushrooms, 4 cups vegetable stock',
  },
  {
    name: 'chickpea curry',
    vegetarian: true,
    metric: '400 g chickpeas, 200 ml coconut milk, 150 g spinach',
    imperial: '14 oz chickpeas, ¾ cup coconut milk, 5 oz spinach',
  },
  {
    name: 'chicken stir-fry',
    vegetarian: false,
    metric: '500 g chicken breast, 250 g egg noodles',
    imperial: '1 lb chicken breast, 8 oz egg noodles',
  },
];

const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/;

/** The memories in the system prompt: the records of its memory block, or none. */
function recalled(system: string): RenderedMemory[] {
  const block = unwrapUntrusted(system);
  if (block?.source !== 'memory' || !Array.isArray(block.value)) return [];
  return block.value.filter(
    (entry): entry is RenderedMemory =>
      typeof entry === 'object' && entry !== null && typeof (entry as RenderedMemory).value === 'string',
  );
}

/** What the rules decide for one request: the memory tool calls to make, or the answer. */
function decide(
  system: string,
  user: string,
  afterTool: boolean,
): { text: string } | { toolCalls: { name: string; args: unknown }[] } {
  // Said now, in this message.
  const toRemember: { key: string; value: string }[] = [];
  if (/\bremember\b/i.test(user)) {
    if (/vegetarian/i.test(user)) toRemember.push({ key: 'diet', value: 'The user is vegetarian' });
    if (/metric/i.test(user)) {
      toRemember.push({ key: 'units', value: 'The user prefers metric units (grams, millilitres, °C)' });
    }
    const email = EMAIL.exec(user)?.[0];
    if (email) toRemember.push({ key: 'contact', value: `Send shopping lists to ${email}` });
  }
  if (toRemember.length > 0 && !afterTool) {
    return { toolCalls: toRemember.map((args) => ({ name: 'save_memory', args })) };
  }
  // Preferences come from facts (said now, or remembered); "last time" comes from past episodes.
  const memories = recalled(system);
  const facts = [user, ...memories.filter((m) => m.kind === 'fact').map((m) => m.value)].join('\n');
  const vegetarian = /vegetarian/i.test(facts);
  const metric = /metric/i.test(facts);
  const episodes = memories.filter((m) => m.kind === 'episode').map((m) => m.value);
  const before = DISHES.find((dish) => episodes.some((episode) => episode.includes(dish.name)));
  const dish =
    DISHES.find((candidate) => candidate.vegetarian === vegetarian && candidate !== before) ?? DISHES[2];
  const recipe = `${dish?.name} — ${metric ? dish?.metric : dish?.imperial}.`;
  const parts: string[] = [];
  if (toRemember.length > 0) parts.push(`Noted: ${toRemember.map((entry) => entry.key).join(', ')}.`);
  parts.push(
    before
      ? `Last time I suggested ${before.name}, so something different tonight: ${recipe}`
      : `Tonight: ${recipe}`,
  );
  return { text: parts.join(' ') };
}

/** The rule-based model; `log` is the file every request it receives is appended to (one JSON line each). */
export function sousChefModel(session: string, log: string): Model {
  const id = 'rules-v1/sous-chef';
  async function generate(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal?.aborted) throw abortReason(request.signal);
    const system = request.messages.find((message) => message.role === 'system')?.content ?? '';
    const raw = request.messages.findLast((message) => message.role === 'user')?.content ?? '';
    const wrapped = unwrapUntrusted(raw)?.value;
    const user = typeof wrapped === 'string' ? wrapped : raw;
    const afterTool = request.messages.at(-1)?.role === 'tool';
    const entry: LoggedRequest = { session, pid: process.pid, system, user, afterTool };
    appendFileSync(log, `${JSON.stringify(entry)}\n`);
    const turn = decide(system, user, afterTool);
    const step = request.messages.filter((message) => message.role === 'assistant').length + 1;
    const toolCalls =
      'toolCalls' in turn
        ? turn.toolCalls.map((call, index) => ({
            id: `call_${step}_${index}`,
            name: call.name,
            arguments: call.args,
          }))
        : [];
    const text = 'text' in turn ? turn.text : '';
    return {
      model: id,
      provider: 'offline',
      text,
      toolCalls,
      finishReason: toolCalls.length > 0 ? 'tool-calls' : 'stop',
      usage: {
        inputTokens: await countTokens(request.messages.map((message) => message.content).join('\n')),
        outputTokens: await countTokens(text + JSON.stringify(toolCalls)),
      },
      costUsd: 0,
    };
  }
  return {
    id,
    provider: 'offline',
    generate,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const response = await generate(request);
      if (response.text) yield { type: 'text-delta', text: response.text };
      for (const [index, call] of response.toolCalls.entries()) {
        yield { type: 'tool-call-start', index, id: call.id, name: call.name };
        yield { type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(call.arguments) };
      }
      yield { type: 'response', response };
    },
  };
}

/** The assistant: the memory tools on `store`, so the model decides what is worth remembering. */
export function sousChef(store: MemoryStore, model: Model) {
  return defineAgent({
    name: 'sous-chef',
    description: 'Suggests what to cook, the way this user likes it',
    instructions:
      'You suggest one dish for tonight with its main quantities. Save what the user asks you to remember ' +
      'with save_memory; follow the preferences in your memory (diet, units) and do not repeat last time’s dish.',
    model,
    tools: memoryTools({ store }),
  });
}
