import { BatonError } from '../errors.js';
import { costOf, type ModelPrice } from '../model/pricing.js';
import type {
  FinishReason,
  Model,
  ModelRequest,
  ModelResponse,
  ModelStreamEvent,
  ToolCall,
  Usage,
} from '../model/types.js';
import { sleep } from '../util/abort.js';

export interface ScriptedToolCall {
  name: string;
  args?: unknown;
  id?: string;
  /** Send these raw argument characters instead of JSON of `args` (to test malformed arguments). */
  rawArguments?: string;
}

export interface ScriptedTurn {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  reasoning?: string;
  /** `null` reports unknown usage. */
  usage?: Usage | null;
  finishReason?: FinishReason;
  /** Thrown instead of answering. */
  error?: Error;
  /** Answer after this long (aborts early when the request's signal aborts). */
  delayMs?: number;
}

export type ScriptedReply = string | ScriptedTurn;

/** Decides each reply from the request; `call` counts from 0. */
export type ScriptFunction = (request: ModelRequest, call: number) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedModelOptions {
  id?: string;
  provider?: string;
  /** Usage reported for each turn that does not set its own; default 10 input and 5 output tokens. */
  usage?: Usage;
  /** Price per million tokens, so cost budgets can be tested. */
  price?: ModelPrice;
  /** Default delay of every turn. */
  delayMs?: number;
  /** When the queue runs out: throw (default) or repeat the last reply. */
  whenExhausted?: 'throw' | 'repeat-last';
  /** Keep every request in `requests` (default true); benchmarks turn it off so memory stays flat. */
  recordRequests?: boolean;
}

export interface ScriptedModel extends Model {
  /** Every request received, in order. */
  readonly requests: readonly ModelRequest[];
  /** Appends replies to the queue. */
  push(...replies: ScriptedReply[]): void;
}

/**
 * A deterministic model for tests: answers from a queue of replies or from a function of the conversation.
 * It never touches the network; it honours the request's abort signal like a real provider.
 */
export function scriptedModel(
  script: readonly ScriptedReply[] | ScriptFunction,
  options: ScriptedModelOptions = {},
): ScriptedModel {
  const queue: ScriptedReply[] = typeof script === 'function' ? [] : [...script];
  const scriptFn = typeof script === 'function' ? script : undefined;
  const requests: ModelRequest[] = [];
  const id = options.id ?? 'scripted';
  const provider = options.provider ?? 'scripted';
  const defaultUsage = options.usage ?? { inputTokens: 10, outputTokens: 5 };
  const prices = options.price ? { [id]: options.price } : undefined;
  let last: ScriptedReply | undefined;
  let calls = 0;

  function pick(request: ModelRequest, call: number): ScriptedReply | Promise<ScriptedReply> {
    if (options.recordRequests !== false) requests.push(request);
    let reply: ScriptedReply | Promise<ScriptedReply> | undefined;
    if (scriptFn) reply = scriptFn(request, call);
    else if (queue.length > 0) reply = queue.shift();
    else if (options.whenExhausted === 'repeat-last' && last !== undefined) reply = last;
    if (reply === undefined) {
      throw new BatonError('INTERNAL', `scriptedModel "${id}": the script ran out after ${call} replies`);
    }
    return reply;
  }

  function build(turn: ScriptedTurn, call: number): ModelResponse {
    if (turn.error) throw turn.error;
    const toolCalls: ToolCall[] = (turn.toolCalls ?? []).map((toolCall, index) =>
      toToolCall(toolCall, call + 1, index),
    );
    const usage = turn.usage === null ? undefined : { ...(turn.usage ?? defaultUsage) };
    const response: ModelResponse = {
      model: id,
      provider,
      text: turn.text ?? '',
      toolCalls,
      finishReason: turn.finishReason ?? (toolCalls.length > 0 ? 'tool-calls' : 'stop'),
    };
    if (usage) response.usage = usage;
    const cost = costOf(id, usage, prices);
    if (cost !== undefined && prices) response.costUsd = cost;
    if (turn.reasoning) response.reasoning = turn.reasoning;
    return response;
  }

  // A promise chain, not async functions: benchmarks hold thousands of calls open and measure what
  // each one keeps, which should be the framework's cost rather than this test double's.
  // The request's signal is read only when a turn waits: a run's signal is made on first read
  // (util/run-signal.ts), and the loop races every model call against its own cancellation anyway.
  function respond(request: ModelRequest): Promise<ModelResponse> {
    const call = calls++;
    let reply: ScriptedReply | Promise<ScriptedReply>;
    try {
      reply = pick(request, call);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(reply).then((value) => {
      last = value;
      const turn: ScriptedTurn = typeof value === 'string' ? { text: value } : value;
      const delay = turn.delayMs ?? options.delayMs ?? 0;
      return delay > 0 ? sleep(delay, request.signal).then(() => build(turn, call)) : build(turn, call);
    });
  }

  return {
    id,
    provider,
    requests,
    push: (...replies) => {
      queue.push(...replies);
    },
    generate: respond,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const response = await respond(request);
      if (response.reasoning) yield { type: 'reasoning-delta', text: response.reasoning };
      for (const piece of response.text.match(/\S+\s*|\s+/g) ?? []) yield { type: 'text-delta', text: piece };
      for (const [index, call] of response.toolCalls.entries()) {
        yield { type: 'tool-call-start', index, id: call.id, name: call.name };
        yield { type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(call.arguments) };
      }
      yield { type: 'response', response };
    },
  };
}

function toToolCall(call: ScriptedToolCall, turn: number, index: number): ToolCall {
  const toolCall: ToolCall = {
    id: call.id ?? `call_${turn}_${index}`,
    name: call.name,
    arguments: call.args ?? {},
  };
  if (call.rawArguments !== undefined) {
    try {
      toolCall.arguments = JSON.parse(call.rawArguments);
    } catch (error) {
      toolCall.arguments = undefined;
      toolCall.argumentsError = `${(error as Error).message} in ${JSON.stringify(call.rawArguments.slice(0, 200))}`;
    }
  }
  return toolCall;
}
