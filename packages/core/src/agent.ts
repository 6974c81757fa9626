import { z } from 'zod';
import { checkStages, stageTools } from './context/config.js';
import type { ContextStage } from './context/types.js';
import { BatonError } from './errors.js';
import type { Guardrails } from './guards/types.js';
import type { Model, ToolChoice } from './model/types.js';
import { configurePlanning, type PlanningConfig } from './planning/config.js';
import type { AgentLike, RunOptions, RunResult } from './run/types.js';
import { type AnyTool, configError, isTool } from './tools/define.js';

export interface Limits {
  /** Model calls per run. */
  maxSteps: number;
  /** Wall clock for the whole run; a real timer aborts in-flight model and tool calls. */
  timeoutMs: number;
  /** Input + output tokens for the run. */
  maxTokens?: number;
  maxCostUsd?: number;
  /** The same tool with the same canonical arguments may be called this many times; the next one stops the run. */
  maxRepeats: number;
  /**
   * Extra repeats allowed per action when its last call failed with a retryable error (a timeout, a rate
   * limit): retrying is not looping, but hammering a call that keeps failing is.
   */
  maxRetryRepeats: number;
  /** Consecutive steps whose tool results bring nothing new before the run stops. */
  noProgressSteps: number;
  /** Tool calls of one step that run at once. */
  toolConcurrency: number;
  /** Corrective retries when the final answer does not match the output schema. */
  outputRetries: number;
  /** Fraction of a limit at which a `limit.warning` event fires. */
  warnAt: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxSteps: 10,
  timeoutMs: 120_000,
  maxRepeats: 1,
  maxRetryRepeats: 2,
  noProgressSteps: 3,
  toolConcurrency: 4,
  outputRetries: 1,
  warnAt: 0.8,
});

export interface InstructionsContext<I> {
  input: I;
  runId: string;
  userId?: string;
}

/**
 * Builds the instructions for one run. Declared through a method so an `Agent<{ topic: string }>` is
 * still usable where an `Agent` of unknown input is expected (method parameters are bivariant).
 */
export type InstructionsFunction<I> = {
  build(context: InstructionsContext<I>): string;
}['build'];

export interface AgentConfig<I, O> extends PlanningConfig<O> {
  /** `^[a-zA-Z0-9_-]{1,64}$`: also the agent's bus subject segment. */
  name: string;
  description: string;
  instructions: string | InstructionsFunction<I>;
  model: Model;
  tools?: readonly AnyTool[];
  limits?: Partial<Limits>;
  /** Validates the run's input (objects reach the model as JSON). */
  input?: z.ZodType<I>;
  /** The final answer must parse as JSON matching this schema; the model gets one corrective retry. */
  output?: z.ZodType<O>;
  /**
   * Tools that must have been called with an ok result before the run may complete; a final answer
   * without them is sent back to the model, never reported as success.
   */
  requiredTools?: readonly string[];
  toolChoice?: ToolChoice;
  temperature?: number;
  maxOutputTokens?: number;
  /** Checks on what goes in and out: the input, the final answer, tool arguments and tool results. */
  guardrails?: Guardrails;
  /**
   * What happens to `write` and `destructive` calls once the run has read untrusted content (a read
   * tool's result, another agent's output, a recalled memory): `approve` (default) asks a person, `deny`
   * refuses them (the model is told), `off` lets them run. Tools marked `safeAfterUntrusted` always run.
   */
  untrustedPolicy?: 'approve' | 'deny' | 'off';
  /**
   * The context pipeline: stages run in order before every model call, shaping what the model is sent
   * (the run's transcript keeps everything). See `capToolResults`, `clearToolResults`, `slidingWindow`,
   * `summarize` and `scratchpad`; a stage that brings a tool (the scratchpad) adds it to the agent.
   * Default: none, the whole conversation is sent.
   */
  context?: readonly ContextStage[];
}

export interface Agent<I = unknown, O = unknown> extends AgentLike<I, O> {
  readonly kind: 'agent';
  readonly name: string;
  readonly description: string;
  readonly config: Readonly<AgentConfig<I, O>>;
  readonly limits: Readonly<Limits>;
  readonly tools: ReadonlyMap<string, AnyTool>;
  /** A copy with some fields replaced (another model, other limits, ...). */
  with(overrides: Partial<AgentConfig<I, O>>): Agent<I, O>;
}

const AGENT_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

type Runner = <I, O>(agent: Agent<I, O>, input: I, options?: RunOptions) => Promise<RunResult<O>>;
let runner: Runner | undefined;

/** Wired by run.ts so `agent.run()` works without agent.ts importing the loop (no import cycle). */
export function registerRunner(run: Runner): void {
  runner = run;
}

export function defineAgent<I = string, O = string>(config: AgentConfig<I, O>): Agent<I, O> {
  const where = `defineAgent(${typeof config?.name === 'string' ? JSON.stringify(config.name) : '?'})`;
  if (typeof config !== 'object' || config === null) throw configError('defineAgent', 'config', 'an object');
  if (typeof config.name !== 'string' || !AGENT_NAME.test(config.name)) {
    throw configError(where, 'name', '1–64 characters of letters, digits, "_" or "-"');
  }
  if (typeof config.description !== 'string' || config.description.trim() === '') {
    throw configError(
      where,
      'description',
      'a non-empty string (other agents read it to decide on handoffs)',
    );
  }
  if (typeof config.instructions !== 'string' && typeof config.instructions !== 'function') {
    throw configError(where, 'instructions', 'a string or a function returning one');
  }
  const model = config.model as Partial<Model> | undefined;
  if (!model || typeof model.generate !== 'function' || typeof model.stream !== 'function') {
    throw configError(
      where,
      'model',
      'a Model (openai(...), anthropic(...), modelFromEnv(), scriptedModel(...))',
    );
  }
  if (config.input !== undefined && !(config.input instanceof z.ZodType)) {
    throw configError(where, 'input', 'a zod schema');
  }
  if (config.output !== undefined && !(config.output instanceof z.ZodType)) {
    throw configError(where, 'output', 'a zod schema');
  }
  const tools = new Map<string, AnyTool>();
  for (const [index, tool] of (config.tools ?? []).entries()) {
    if (!isTool(tool)) throw configError(where, `tools[${index}]`, 'a tool made with defineTool()');
    if (tools.has(tool.name))
      throw configError(where, `tools[${index}]`, `unique (two tools are named "${tool.name}")`);
    tools.set(tool.name, tool);
  }
  if (config.context !== undefined) {
    for (const tool of stageTools(checkStages(config.context, where, 'context'), tools, where)) {
      tools.set(tool.name, tool);
    }
  }
  for (const [index, name] of (config.requiredTools ?? []).entries()) {
    if (!tools.has(name)) {
      throw configError(where, `requiredTools[${index}]`, `one of the agent's tools (no tool "${name}")`);
    }
  }
  const limits = resolveLimits(config.limits, where);

  const agent: Agent<I, O> = {
    kind: 'agent',
    name: config.name,
    description: config.description,
    config: Object.freeze({ ...config }),
    limits,
    tools,
    with: (overrides) => defineAgent({ ...config, ...overrides }),
    run: (input, options) => {
      if (!runner) throw new BatonError('INTERNAL', 'The run loop is not loaded');
      return runner(agent, input, options);
    },
  };
  configurePlanning(agent, config, where);
  return agent;
}

export function isAgent(value: unknown): value is Agent {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'agent';
}

export function resolveLimits(overrides: Partial<Limits> | undefined, where: string): Readonly<Limits> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...dropUndefined(overrides ?? {}) };
  const positiveIntegers = ['maxSteps', 'maxRepeats', 'noProgressSteps', 'toolConcurrency'] as const;
  for (const key of positiveIntegers) {
    if (!Number.isInteger(limits[key]) || limits[key] < 1)
      throw configError(where, `limits.${key}`, 'an integer ≥ 1');
  }
  for (const key of ['outputRetries', 'maxRetryRepeats'] as const) {
    if (!Number.isInteger(limits[key]) || limits[key] < 0)
      throw configError(where, `limits.${key}`, 'an integer ≥ 0');
  }
  if (!isPositiveFinite(limits.timeoutMs))
    throw configError(where, 'limits.timeoutMs', 'a positive, finite number of milliseconds');
  if (limits.maxTokens !== undefined && !isPositiveFinite(limits.maxTokens)) {
    throw configError(where, 'limits.maxTokens', 'a positive, finite number');
  }
  if (limits.maxCostUsd !== undefined && !isPositiveFinite(limits.maxCostUsd)) {
    throw configError(where, 'limits.maxCostUsd', 'a positive, finite number of dollars');
  }
  if (!(limits.warnAt > 0 && limits.warnAt <= 1))
    throw configError(where, 'limits.warnAt', 'a fraction in (0, 1]');
  return Object.freeze(limits);
}

function isPositiveFinite(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
