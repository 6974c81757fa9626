import {
  abortReason,
  countTokens,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
  parseToolResult,
  type ToolResult,
  unwrapUntrusted,
} from '@baton/core';

/** What a rule decides for one turn: call tools, or answer. */
export type RuleTurn = { text: string } | { toolCalls: { name: string; args: unknown }[] };

/** What a rule reads: the run's input and the result of the last tool call, if the last message is one. */
export interface RuleContext {
  input: unknown;
  lastTool?: { tool: string; result: ToolResult };
}

/**
 * A deterministic, rule-based stand-in for a language model — **not an LLM** — so this example runs
 * with no API key and always takes the same steps: `decide` looks at the input and the last tool result
 * and returns the next tool calls or the answer. Usage is counted with the tokenizer; cost is $0.
 */
export function rulesModel(role: string, decide: (context: RuleContext) => RuleTurn): Model {
  const id = `rules-v1/${role}`;
  async function generate(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal?.aborted) throw abortReason(request.signal);
    const turn = decide(contextOf(request));
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
    const prompt = request.messages.map((message) => message.content).join('\n');
    return {
      model: id,
      provider: 'offline',
      text,
      toolCalls,
      finishReason: toolCalls.length > 0 ? 'tool-calls' : 'stop',
      usage: {
        inputTokens: await countTokens(prompt),
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

function contextOf(request: ModelRequest): RuleContext {
  const user = request.messages.find((message) => message.role === 'user')?.content ?? '';
  const last = request.messages.at(-1);
  const context: RuleContext = { input: unwrapUntrusted(user)?.value ?? parseJson(user) ?? user };
  if (last?.role === 'tool') {
    const parsed = parseToolResult(last.content);
    if (parsed) context.lastTool = parsed;
  }
  return context;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
