import { countTokens, type Model, type ModelRequest, type ModelResponse } from '@baton/core';

/** Input tokens sent, summed over every model call a meter saw (the agent's and the summarizer's). */
export interface Meter {
  inputTokens: number;
  calls: number;
}

export const newMeter = (): Meter => ({ inputTokens: 0, calls: 0 });

/**
 * Everything a provider bills as input for one call, as text: the messages (tool calls included), the
 * tool definitions and the response schema — the same rendering the offline model bills.
 */
export function promptText(request: ModelRequest): string {
  const parts = request.messages.map((message) => {
    if (message.role === 'assistant') {
      const calls = (message.toolCalls ?? []).map((call) => ` ${call.name}${JSON.stringify(call.arguments)}`);
      return `assistant: ${message.content}${calls.join('')}`;
    }
    return `${message.role}: ${message.content}`;
  });
  if (request.tools?.length) parts.push(JSON.stringify(request.tools));
  if (request.responseSchema) parts.push(JSON.stringify(request.responseSchema));
  return parts.join('\n');
}

export const inputTokensOf = (request: ModelRequest): Promise<number> => countTokens(promptText(request));

/**
 * A model from a function of the request (a deterministic, rule-based stand-in: not an LLM), whose
 * every call is metered with the real tokenizer and reported as its usage, so budgets see it too.
 */
export function meteredModel(
  id: string,
  meter: Meter,
  answer: (request: ModelRequest) => Pick<ModelResponse, 'text' | 'toolCalls'>,
): Model {
  const generate = async (request: ModelRequest): Promise<ModelResponse> => {
    const inputTokens = await inputTokensOf(request);
    meter.inputTokens += inputTokens;
    meter.calls++;
    const turn = answer(request);
    // Ids the way a provider mints them, unique per call: the model cannot count steps it no longer sees.
    const toolCalls = turn.toolCalls.map((call, index) => ({ ...call, id: `call_${meter.calls}_${index}` }));
    const text = turn.text;
    const outputTokens = await countTokens(text + toolCalls.map((call) => JSON.stringify(call)).join(''));
    return {
      model: id,
      provider: 'offline',
      text,
      toolCalls,
      finishReason: toolCalls.length > 0 ? 'tool-calls' : 'stop',
      usage: { inputTokens, outputTokens },
      costUsd: 0,
    };
  };
  return {
    id,
    provider: 'offline',
    generate,
    async *stream(request) {
      yield { type: 'response', response: await generate(request) };
    },
  };
}

/** Lower-cased content words (a light stemmer: plural `s`, `ing`, `ed`), for matching sentences to questions. */
export function keywords(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return [
    ...new Set(
      words
        .filter((word) => word.length > 2 && !STOP.has(word))
        .map((word) => word.replace(/(?:ing|ed|es|s)$/, '')),
    ),
  ];
}

const STOP = new Set(
  'the and for are with what how why does should when which that this from into your you can its use used uses using do is be to of in on a an or by as at it not'.split(
    ' ',
  ),
);

export function sentencesOf(text: string): string[] {
  return text
    .replace(/^#+\s.*$/gm, '')
    .split(/\n\s*\n/)
    .flatMap((paragraph) =>
      paragraph
        .replace(/\s+/g, ' ')
        .trim()
        .split(/(?<=[.!?])\s+(?=[A-Z0-9])/),
    )
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

/** The sentence of `text` sharing the most keywords with `question` (the first of equals). */
export function bestSentence(text: string, question: string): string | undefined {
  const wanted = keywords(question);
  let best: string | undefined;
  let bestScore = 0;
  for (const sentence of sentencesOf(text)) {
    const have = new Set(keywords(sentence));
    const score = wanted.filter((word) => have.has(word)).length;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return best;
}
