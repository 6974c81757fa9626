import type { Part } from '@a2a-js/sdk';
import {
  type AgentLike,
  BatonError,
  type EventHub,
  type HandoffContract,
  isAgent,
  type RunEvent,
  type RunResult,
  type Usage,
} from '@baton/core';
import { z } from 'zod';
import { dataOf, textOf } from './wire.js';

/** The part of a team (`@baton/supervisor`) serving needs; every `Team` is one. */
export interface TeamLike<I = unknown, O = unknown> {
  readonly kind: 'team';
  readonly name: string;
  readonly description: string;
  readonly members?: readonly string[];
  run(
    input: I,
    options?: { signal?: AbortSignal; runId?: string; events?: EventHub<never> },
  ): Promise<TeamLikeResult<O>>;
}

export interface TeamLikeResult<O = unknown> {
  status: string;
  output: O | undefined;
  stopReason: { kind: string; message: string };
  usage: Usage;
  costUsd: number;
  unpriced?: { steps: number; models: string[] };
  budget?: { used: { steps?: number; tokens?: number; costUsd?: number } };
  runId: string;
  traceId: string;
}

export type A2aServable<I = unknown, O = unknown> = AgentLike<I, O> | TeamLike<I, O>;

export interface A2aTargetOptions {
  /** The handoff contract: its input is what a data part must match, its output what the artifact holds. */
  contract?: HandoffContract;
  /** Turns a text part into the run's input (a team's `fromTopic`); default below. */
  fromText?: (text: string) => unknown;
  /** The card's name; default the target's. */
  name?: string;
  /** The card's description; default the target's. */
  description?: string;
}

/** What a run came to, in the terms an A2A task needs, agent or team alike. */
export interface Outcome {
  status: string;
  output: unknown;
  /** Why it stopped, for a person, when it did not complete. */
  failure: string | undefined;
  /** Everything the run spent (its members and the runs its tools started included). */
  usage: {
    steps: number;
    inputTokens: number;
    outputTokens: number;
    tokens: number;
    costUsd: number;
    unpricedSteps?: number;
  };
  runId: string;
  traceId: string;
}

/** One agent or team, ready to be served: how to read a message, how to run, how to report. */
export interface A2aTarget {
  readonly name: string;
  readonly description: string;
  readonly kind: 'agent' | 'team';
  readonly contract: HandoffContract | undefined;
  readonly inputSchema: z.ZodType | undefined;
  readonly outputSchema: z.ZodType | undefined;
  /** The run's input from a message's parts, or why the parts do not make one. */
  parse(parts: readonly Part[]): { ok: true; input: unknown } | { ok: false; message: string };
  run(
    input: unknown,
    options: { signal: AbortSignal; runId: string; events: EventHub<RunEvent> },
  ): Promise<Outcome>;
}

export function isTeamLike(value: unknown): value is TeamLike {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'team';
}

export function a2aTarget(servable: A2aServable, options: A2aTargetOptions = {}): A2aTarget {
  if (typeof servable !== 'object' || servable === null || typeof servable.run !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'A2A: the target must be an agent or a team');
  }
  const team = isTeamLike(servable);
  const inputSchema =
    options.contract?.input ??
    (isAgent(servable) ? (servable.config.input as z.ZodType | undefined) : undefined);
  const outputSchema =
    options.contract?.output ??
    (isAgent(servable) ? (servable.config.output as z.ZodType | undefined) : undefined);
  const fromText = options.fromText ?? defaultFromText(inputSchema);
  const name = options.name ?? servable.name;
  return {
    name,
    description: options.description ?? servable.description,
    kind: team ? 'team' : 'agent',
    contract: options.contract,
    inputSchema,
    outputSchema,
    parse(parts) {
      const data = dataOf(parts);
      let candidate: unknown;
      if (data.found) candidate = data.value;
      else {
        const text = textOf(parts);
        if (text === undefined || text.trim() === '') {
          return { ok: false, message: `"${name}" needs a text part or a data part` };
        }
        candidate = fromText(text);
      }
      if (!inputSchema) return { ok: true, input: candidate };
      const parsed = inputSchema.safeParse(candidate);
      if (parsed.success) return { ok: true, input: parsed.data };
      const lines = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
      );
      return {
        ok: false,
        message: `The input does not match ${options.contract ? `contract ${options.contract.id}` : `the input of "${name}"`}: ${lines.join('; ')}`,
      };
    },
    async run(input, runOptions) {
      if (team) {
        const result = await (servable as TeamLike).run(input, {
          signal: runOptions.signal,
          runId: runOptions.runId,
          events: runOptions.events as EventHub<never>,
        });
        return teamOutcome(result);
      }
      const result = await (servable as AgentLike).run(input, {
        signal: runOptions.signal,
        runId: runOptions.runId,
        events: runOptions.events,
      });
      return agentOutcome(result);
    },
  };
}

/**
 * A text part as the run's input: the text itself when the schema takes a string (or there is none),
 * JSON when it parses, else the text in the schema's one required string field (`{ topic }`).
 */
function defaultFromText(schema: z.ZodType | undefined): (text: string) => unknown {
  if (!schema) return (text) => text;
  if (schema.safeParse('x').success) return (text) => text;
  const field = soleStringField(schema);
  return (text) => {
    const trimmed = text.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return JSON.parse(trimmed);
      } catch {
        // Not JSON after all: treat it as words.
      }
    }
    return field === undefined ? text : { [field]: text };
  };
}

function soleStringField(schema: z.ZodType): string | undefined {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const properties = (json.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = Array.isArray(json.required) ? (json.required as string[]) : [];
  const strings = required.filter((key) => properties[key]?.type === 'string');
  return strings.length === 1 ? strings[0] : undefined;
}

/**
 * Runs a task's input somewhere else than in this handler (the gateway's executor, which keeps a run
 * record, a journal, durable approvals): what it came to, as a task reports it.
 */
export type A2aRunner = (
  input: unknown,
  options: { signal: AbortSignal; taskId: string; events: EventHub<RunEvent> },
) => Promise<Outcome>;

/** What a finished agent or team result comes to, as a task reports it. */
export function outcomeOf(kind: 'agent' | 'team', result: RunResult | TeamLikeResult): Outcome {
  return kind === 'team' ? teamOutcome(result as TeamLikeResult) : agentOutcome(result as RunResult);
}

function agentOutcome(result: RunResult): Outcome {
  const tokens = result.usage.inputTokens + result.usage.outputTokens;
  const spent = result.spent;
  const error = result.error ? ` (${result.error.code}: ${result.error.message})` : '';
  return {
    status: result.status,
    output: result.output,
    failure:
      result.status === 'completed' ? undefined : `${result.status}${error}: ${result.partial.summary}`,
    usage: {
      steps: spent?.steps ?? result.steps,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      tokens: spent?.tokens ?? tokens,
      costUsd: spent?.costUsd ?? result.costUsd,
      ...(result.unpriced ? { unpricedSteps: result.unpriced.steps } : {}),
    },
    runId: result.runId,
    traceId: result.traceId,
  };
}

function teamOutcome(result: TeamLikeResult): Outcome {
  const used = result.budget?.used;
  return {
    status: result.status,
    output: result.output,
    failure: result.status === 'completed' ? undefined : `${result.status}: ${result.stopReason.message}`,
    usage: {
      steps: used?.steps ?? 0,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      tokens: used?.tokens ?? result.usage.inputTokens + result.usage.outputTokens,
      costUsd: used?.costUsd ?? result.costUsd,
      ...(result.unpriced ? { unpricedSteps: result.unpriced.steps } : {}),
    },
    runId: result.runId,
    traceId: result.traceId,
  };
}

/** The text an output is sent as. */
export function answerText(output: unknown): string {
  return typeof output === 'string' ? output : (JSON.stringify(output, null, 2) ?? '');
}
