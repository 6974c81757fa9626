import { randomBytes } from 'node:crypto';
import { type Artifact, type Task, TaskState } from '@a2a-js/sdk';
import {
  BatonError,
  type HandoffContract,
  type RunOptions,
  type RunResult,
  type RunStatus,
} from '@baton/core';
import { z } from 'zod';
import { BATON_METADATA } from './executor.js';
import { dataOf, isTerminal, textOf } from './wire.js';

// What an A2A call came to, as a Baton RunResult: the answer checked against the contract, the status
// named after what happened, and the usage the server reported (or one step of unknown cost).

const rawUsage = z
  .object({
    steps: z.number().int().nonnegative().default(0),
    inputTokens: z.number().nonnegative().default(0),
    outputTokens: z.number().nonnegative().default(0),
    tokens: z.number().nonnegative().optional(),
    costUsd: z.number().nonnegative().optional(),
    unpricedSteps: z.number().int().nonnegative().optional(),
  })
  .loose();
/** What a Baton A2A server reports in its metadata; anything else is treated as not reported. */
const reportSchema = z
  .object({ runId: z.string().optional(), traceId: z.string().optional(), usage: rawUsage })
  .loose();

export interface Final {
  state: TaskState | undefined;
  task: Task | undefined;
  taskId: string | undefined;
  message: string | undefined;
  artifacts: Artifact[];
  metadata: Record<string, unknown>;
}

export function record(final: Final, task: Task): void {
  final.task = task;
  final.taskId = task.id;
  final.state = task.status?.state ?? final.state;
  final.message = textOf(task.status?.message?.parts ?? []) ?? final.message;
  if (task.artifacts.length > 0) final.artifacts = [...task.artifacts];
  Object.assign(final.metadata, task.metadata ?? {});
}

interface FinishArgs<O> {
  name: string;
  runId: string;
  started: number;
  final: Final;
  stopReason: BatonError | undefined;
  contract: HandoffContract<unknown, O> | undefined;
}

export function finish<O>({
  name,
  runId,
  started,
  final,
  stopReason,
  contract,
}: FinishArgs<O>): RunResult<O> {
  const answer = final.artifacts.at(-1);
  const reported = reportSchema.safeParse(
    answer?.metadata?.[BATON_METADATA] ?? final.metadata[BATON_METADATA],
  );
  const report = reported.success ? reported.data : undefined;
  const extra: Partial<RunResult<O>> = usageOf<O>(report?.usage);
  if (report?.traceId) extra.traceId = report.traceId;
  const base = { name, runId, started, extra };
  const remote = final.taskId ? ` (task ${final.taskId})` : '';
  if (final.state === TaskState.TASK_STATE_COMPLETED && answer) {
    const data = dataOf(answer.parts);
    const text = textOf(answer.parts);
    const value: unknown = data.found ? data.value : text;
    let output = value as O;
    if (contract) {
      const checked = contract.output.safeParse(data.found ? data.value : parseMaybe(text));
      if (!checked.success) {
        return failed<O>({
          ...base,
          error: new BatonError(
            'OUTPUT_INVALID',
            `The answer of ${name} does not match ${contract.id}: ${checked.error.message}`,
          ),
          text,
        });
      }
      output = checked.data;
    }
    return {
      ...baseResult<O>(base),
      status: 'completed',
      output,
      partial: {
        summary: `${name} answered over A2A${remote}.`,
        ...(text ? { text } : {}),
        toolResults: [],
        missing: [],
      },
    };
  }
  if (final.state === TaskState.TASK_STATE_CANCELED || (stopReason && !isTerminal(final.state))) {
    const reason = stopReason ?? new BatonError('ABORTED', `The A2A task of ${name} was canceled${remote}`);
    const status: RunStatus = reason.code === 'TIMEOUT' ? 'timeout' : 'aborted';
    return failed<O>({ ...base, error: reason, status });
  }
  if (final.state === TaskState.TASK_STATE_COMPLETED) {
    return failed<O>({
      ...base,
      error: new BatonError('A2A_ERROR', `${name} completed${remote} without an answer`),
    });
  }
  const why = final.message ? `: ${final.message}` : '';
  const stateName =
    final.state === undefined ? 'no final state' : (TaskState[final.state] ?? String(final.state));
  return failed<O>({
    ...base,
    error: new BatonError('A2A_ERROR', `The A2A task of ${name}${remote} ended ${stateName}${why}`, {
      details: { state: stateName, taskId: final.taskId ?? null },
    }),
  });
}

/** Charges what the remote run spent to the caller's ledger (unknown cost when it did not say). */
export function settle<O>(options: RunOptions, result: RunResult<O>): RunResult<O> {
  if (!options.budget) return result;
  const tokens = result.usage.inputTokens + result.usage.outputTokens;
  options.budget.charge(
    result.unpriced
      ? { steps: result.steps, tokens, unpricedSteps: result.unpriced.steps }
      : { steps: result.steps, tokens, costUsd: result.costUsd },
  );
  return result;
}

function usageOf<O>(usage: z.output<typeof rawUsage> | undefined): Partial<RunResult<O>> {
  if (!usage) return {};
  const result: Partial<RunResult<O>> = {
    steps: usage.steps,
    usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens },
    costUsd: usage.costUsd ?? 0,
  };
  if (usage.costUsd === undefined || (usage.unpricedSteps ?? 0) > 0) {
    result.unpriced = { steps: usage.unpricedSteps ?? Math.max(1, usage.steps), models: ['a2a:remote'] };
  }
  return result;
}

export interface BaseArgs<O> {
  name: string;
  runId: string;
  started: number;
  extra?: Partial<RunResult<O>>;
}

function baseResult<O>({ name, runId, started, extra }: BaseArgs<O>): RunResult<O> {
  // Not reported by the server: one step whose cost is unknown (never free).
  const unreported = extra?.usage === undefined;
  return {
    status: 'failed',
    output: undefined,
    partial: { summary: '', toolResults: [], missing: [] },
    steps: 1,
    usage: { inputTokens: 0, outputTokens: 0 },
    costUsd: 0,
    ...(unreported ? { unpriced: { steps: 1, models: [`a2a:${name}`] } } : {}),
    durationMs: performance.now() - started,
    runId,
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    agent: name,
    ...extra,
  };
}

export function failed<O>(
  args: BaseArgs<O> & { error: BatonError; status?: RunStatus | undefined; text?: string | undefined },
): RunResult<O> {
  const status = args.status ?? statusOf(args.error);
  const { unpriced, ...base } = baseResult<O>(args);
  // `extra` is there once the server was reached: a call that never left spent nothing.
  const reached = args.extra !== undefined;
  return {
    ...base,
    ...(reached ? (unpriced ? { unpriced } : {}) : { steps: 0 }),
    status,
    output: undefined,
    error: args.error.toJSON(),
    partial: {
      summary: `${args.name} (A2A) ${status}: ${args.error.message}`,
      ...(args.text ? { text: args.text } : {}),
      toolResults: [],
      missing: [],
    },
  };
}

function statusOf(error: BatonError): RunStatus {
  switch (error.code) {
    case 'TIMEOUT':
    case 'DEADLINE_EXCEEDED':
      return 'timeout';
    case 'ABORTED':
      return 'aborted';
    case 'BUDGET_STEPS':
    case 'BUDGET_TOKENS':
    case 'BUDGET_COST':
      return 'budget_exceeded';
    default:
      return 'failed';
  }
}

function parseMaybe(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
