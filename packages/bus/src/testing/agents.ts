import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AgentLike,
  BatonError,
  defineHandoff,
  type HandoffContract,
  type RunOptions,
  type RunResult,
  type RunStatus,
  sleep,
  type Usage,
} from '@baton/core';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { z } from 'zod';
import type { Envelope } from '../envelope.js';

/** Core's abortable sleep, re-exported for the conformance agents. */
export { sleep };

/** The contract the test agents speak: text in, text out. */
export const echoContract: HandoffContract<
  { text: string; delayMs?: number },
  { text: string; by?: string }
> = defineHandoff({
  name: 'test.echo',
  version: 1,
  description: 'Echoes the text back',
  input: z.object({ text: z.string(), delayMs: z.number().int().nonnegative().optional() }),
  output: z.object({ text: z.string(), by: z.string().optional() }),
});

/** A valid invocation of the echo agent, as a caller would send it; `overrides` replace any field. */
export function invokeEnvelope(overrides: Partial<Envelope> = {}): Envelope {
  const id = randomUUID();
  return {
    v: 1,
    id,
    kind: 'invoke',
    contract: echoContract.id,
    from: 'test',
    to: 'echo',
    runId: randomUUID(),
    correlationId: id,
    causationId: null,
    deadline: Date.now() + 10_000,
    budget: {},
    attempt: 1,
    hop: 0,
    payload: { text: 'ok' },
    ...overrides,
  };
}

export interface HandAgentOptions {
  name?: string;
  description?: string;
  /** Reported usage per run (default 10 in / 5 out). */
  usage?: Usage;
  costUsd?: number;
  /** Names the instance in the output's `by` field. */
  instance?: string;
}

/** Everything a hand-written agent saw, for assertions. */
export interface Observed {
  runs: number;
  active: number;
  maxActive: number;
  lastOptions: RunOptions | undefined;
  aborts: unknown[];
}

/**
 * A hand-written AgentLike that echoes its input (after `delayMs`, honouring its signal) and reports usage:
 * it tests the bus without the model loop. Emits run.start/run.end into `options.events`.
 */
export function echoAgent(options: HandAgentOptions = {}): AgentLike<
  { text: string; delayMs?: number },
  { text: string; by?: string }
> & {
  observed: Observed;
} {
  const name = options.name ?? 'echo';
  const observed: Observed = { runs: 0, active: 0, maxActive: 0, lastOptions: undefined, aborts: [] };
  return {
    name,
    description: options.description ?? 'Echoes its input',
    observed,
    async run(input, runOptions = {}) {
      const started = performance.now();
      observed.runs++;
      observed.active++;
      observed.maxActive = Math.max(observed.maxActive, observed.active);
      observed.lastOptions = runOptions;
      const runId = runOptions.runId ?? randomBytes(8).toString('hex');
      const ids = traceIds(runOptions);
      const at = Date.now();
      runOptions.events?.emit({ type: 'run.start', runId, agent: name, at, input, traceId: ids.traceId });
      let status: RunStatus = 'completed';
      let error: BatonError | undefined;
      try {
        if (input.delayMs) await sleep(input.delayMs, runOptions.signal);
      } catch (caught) {
        error = BatonError.wrap(caught);
        observed.aborts.push(runOptions.signal?.reason);
        status = error.code === 'DEADLINE_EXCEEDED' || error.code === 'TIMEOUT' ? 'timeout' : 'aborted';
      } finally {
        observed.active--;
      }
      const usage = { ...(options.usage ?? { inputTokens: 10, outputTokens: 5 }) };
      const output = {
        text: input.text,
        ...(options.instance === undefined ? {} : { by: options.instance }),
      };
      const result: RunResult<{ text: string; by?: string }> = {
        status,
        output: status === 'completed' ? output : undefined,
        partial: {
          summary: status === 'completed' ? `${name} echoed` : `${name} stopped: ${error?.message}`,
          text: `partial:${input.text}`,
          toolResults: [],
          missing: [],
        },
        steps: 1,
        usage,
        costUsd: options.costUsd ?? 0.001,
        durationMs: performance.now() - started,
        runId,
        traceId: ids.traceId,
        spanId: ids.spanId,
        agent: name,
      };
      if (error) result.error = error.toJSON();
      runOptions.events?.emit({ type: 'run.end', runId, agent: name, at: Date.now(), result });
      return result;
    },
  };
}

/** An agent whose run does whatever `fn` says: throw, return garbage, ignore its signal... */
export function customAgent<I, O>(
  name: string,
  fn: (input: I, options: RunOptions) => Promise<RunResult<O>>,
): AgentLike<I, O> {
  return { name, description: `${name} (test agent)`, run: (input, options = {}) => fn(input, options) };
}

/** A RunResult for hand-written agents. */
export function resultOf<O>(
  agent: string,
  options: RunOptions,
  parts: {
    status?: RunStatus;
    output?: O;
    error?: BatonError;
    usage?: Usage;
    steps?: number;
    costUsd?: number;
  },
): RunResult<O> {
  const status = parts.status ?? 'completed';
  const ids = traceIds(options);
  const result: RunResult<O> = {
    status,
    output: status === 'completed' ? parts.output : undefined,
    partial: { summary: `${agent} ${status}`, toolResults: [], missing: [] },
    steps: parts.steps ?? 1,
    usage: parts.usage ?? { inputTokens: 1, outputTokens: 1 },
    costUsd: parts.costUsd ?? 0,
    durationMs: 1,
    runId: options.runId ?? 'run',
    traceId: ids.traceId,
    spanId: ids.spanId,
    agent,
  };
  if (parts.error) result.error = parts.error.toJSON();
  return result;
}

function traceIds(options: RunOptions): { traceId: string; spanId: string } {
  const spanContext = options.traceContext ? trace.getSpanContext(options.traceContext) : undefined;
  if (spanContext && isSpanContextValid(spanContext)) {
    return { traceId: spanContext.traceId, spanId: spanContext.spanId };
  }
  return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
}
