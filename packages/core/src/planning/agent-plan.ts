import { z } from 'zod';
import type { Agent } from '../agent.js';
import type { AssistantMessage, JsonSchema, Message, Model } from '../model/types.js';
import type { LoopState } from '../run/state.js';
import type { RunOptions } from '../run/types.js';
import type { AnyTool } from '../tools/define.js';
import { configError, RISK_ORDER } from '../tools/define.js';
import { canonicalJson } from '../util/canonical.js';
import { PLAN_MAX_STEPS, type Plan, type PlanStep, planSchema } from './plan.js';
import { type CatalogEntry, PLAN_DONE_PREFIX, PLAN_PREFIX } from './prompts.js';
import type { PlanCapability } from './validate.js';

/** How an agent plans (`defineAgent({ planner: 'plan-execute', planning })`). */
export interface PlanningOptions {
  /** Re-plans after a step fails; then the run fails with what was found. Default 2 (the seed: 1–2). */
  maxReplans?: number;
  /** Answers the planner gets to produce a valid plan, the first included; default 3. */
  maxAttempts?: number;
  /** Most steps one plan may have; default 15 (plan-and-execute suits 5–15-step tasks). */
  maxSteps?: number;
  /** The model that plans; default the agent's (asked with role `planning`, so `route()` can pick a strong one). */
  model?: Model;
}

export interface ResolvedPlanning {
  maxReplans: number;
  maxAttempts: number;
  maxSteps: number;
  model: Model | undefined;
}

export const DEFAULT_PLANNING = Object.freeze({ maxReplans: 2, maxAttempts: 3, maxSteps: 15 });

/** Checks the planning options at definition time (a bad value is a programmer's error, said then). */
export function resolvePlanning(options: PlanningOptions | undefined, where: string): ResolvedPlanning {
  const resolved: ResolvedPlanning = {
    maxReplans: options?.maxReplans ?? DEFAULT_PLANNING.maxReplans,
    maxAttempts: options?.maxAttempts ?? DEFAULT_PLANNING.maxAttempts,
    maxSteps: options?.maxSteps ?? DEFAULT_PLANNING.maxSteps,
    model: options?.model,
  };
  if (!Number.isInteger(resolved.maxReplans) || resolved.maxReplans < 0 || resolved.maxReplans > 10) {
    throw configError(where, 'planning.maxReplans', 'an integer from 0 to 10');
  }
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1 || resolved.maxAttempts > 10) {
    throw configError(where, 'planning.maxAttempts', 'an integer from 1 to 10');
  }
  if (!Number.isInteger(resolved.maxSteps) || resolved.maxSteps < 1 || resolved.maxSteps > PLAN_MAX_STEPS) {
    throw configError(where, 'planning.maxSteps', `an integer from 1 to ${PLAN_MAX_STEPS}`);
  }
  const model = resolved.model as Partial<Model> | undefined;
  if (model !== undefined && (typeof model.generate !== 'function' || typeof model.stream !== 'function')) {
    throw configError(where, 'planning.model', 'a Model');
  }
  return resolved;
}

const outputSchemas = new WeakMap<AnyTool, JsonSchema | null>();

/** What a tool returns as JSON Schema, when it declares an output schema that JSON Schema can express. */
export function outputSchemaOf(tool: AnyTool): JsonSchema | undefined {
  let cached = outputSchemas.get(tool);
  if (cached === undefined) {
    cached = null;
    if (tool.output) {
      try {
        const { $schema: _ignored, ...rest } = z.toJSONSchema(tool.output, {
          io: 'output',
          unrepresentable: 'any',
        }) as JsonSchema;
        cached = rest;
      } catch {
        // An output JSON Schema cannot express is left unchecked, not refused.
      }
    }
    outputSchemas.set(tool, cached);
  }
  return cached ?? undefined;
}

export function catalogOf(agent: Agent): CatalogEntry[] {
  return [...agent.tools.values()].map((tool) => {
    const entry: CatalogEntry = {
      name: tool.name,
      description: tool.description,
      input: tool.spec.parameters,
    };
    const output = outputSchemaOf(tool);
    if (output) entry.output = output;
    return entry;
  });
}

/** The agent's tools as a plan may use them: allowed or not by the run's policy, calls left, result caps. */
export function capabilitiesOf(
  agent: Agent,
  state: LoopState,
  options: RunOptions,
): Map<string, PlanCapability> {
  const policy = options.toolPolicy;
  const capabilities = new Map<string, PlanCapability>();
  for (const tool of agent.tools.values()) {
    const capability: PlanCapability = {
      name: tool.name,
      input: tool.input,
      maxTokens: tool.maxResultTokens,
    };
    const output = outputSchemaOf(tool);
    if (output) capability.output = output;
    if (policy?.allow !== undefined && !policy.allow.includes(tool.name)) {
      capability.denied = 'the run’s tool policy does not allow it';
    } else if (policy?.deny?.includes(tool.name)) capability.denied = 'the run’s tool policy denies it';
    else if (policy?.maxRisk !== undefined && RISK_ORDER[tool.risk] > RISK_ORDER[policy.maxRisk]) {
      capability.denied = `its risk (${tool.risk}) is above what this run may do (${policy.maxRisk})`;
    }
    if (tool.rateLimit?.perRun !== undefined) {
      capability.callsLeft = Math.max(0, tool.rateLimit.perRun - (state.toolCallCounts[tool.name] ?? 0));
    }
    capabilities.set(tool.name, capability);
  }
  return capabilities;
}

/** The tool call id of a plan step: deterministic, so a resumed run finds its recorded outcome. */
export function stepCallId(planNumber: number, step: string): string {
  return `plan${planNumber}_${step}`;
}

const STEP_CALL = /^plan(\d+)_([A-Za-z][A-Za-z0-9_-]*)$/;

export interface DoneEntry {
  use: string;
  produces: string;
  output: unknown;
}

/** Where a plan-and-execute run stands, read back from its conversation and tool records. */
export interface PlanProgress {
  /** The plans made so far (only the valid ones run), numbered from 1. */
  plans: { number: number; plan: Plan }[];
  /** Finished steps over every plan, by step id. */
  done: Map<string, DoneEntry>;
  /** Steps of the current plan whose call failed: code and message. */
  failed: Map<string, { use: string; code: string; message: string }>;
  /** The plan phase ended: the model answers from here. */
  finished: boolean;
  /** `tool:canonical args` of every failed call of the run. */
  failedCalls: Set<string>;
}

/**
 * Reads a run's plan phase back from its state: the plans are assistant messages marked `Plan N:`, the
 * steps' calls have ids `plan<N>_<step>`. So a run paused for approval in the middle of a plan (or
 * resumed from its journal) continues the same plan instead of starting another.
 */
export function progressOf(state: LoopState): PlanProgress {
  const progress: PlanProgress = {
    plans: [],
    done: new Map(),
    failed: new Map(),
    finished: false,
    failedCalls: new Set(),
  };
  for (const message of state.messages) {
    if (message.role === 'assistant') {
      const plan = planInMessage(message);
      if (plan) progress.plans.push(plan);
    } else if (message.role === 'user' && message.content.startsWith(PLAN_DONE_PREFIX)) {
      progress.finished = true;
    }
  }
  const current = progress.plans.at(-1);
  const steps = new Map<string, PlanStep>();
  for (const { plan, number } of progress.plans) {
    for (const step of plan.steps) steps.set(`${number}:${step.id}`, step);
  }
  for (const record of state.toolRecords) {
    // A call that failed for good is not planned again; one that may succeed on a retry (a timeout) may be.
    if (!record.ok && !record.error?.retryable)
      progress.failedCalls.add(`${record.tool}:${canonicalJson(record.args)}`);
    const match = STEP_CALL.exec(record.toolCallId);
    if (!match) continue;
    const step = steps.get(`${match[1]}:${match[2]}`);
    if (!step) continue;
    const id = match[2] as string;
    if (record.ok) {
      progress.done.set(id, { use: record.tool, produces: step.produces, output: record.data });
      progress.failed.delete(id);
    } else if (current && Number(match[1]) === current.number) {
      progress.failed.set(id, {
        use: record.tool,
        code: record.error?.code ?? 'TOOL_FAILED',
        message: record.error?.message ?? 'the step failed',
      });
    }
  }
  return progress;
}

/**
 * A message of a plan's later steps: calls only, every id a plan step's. Such a message is the plan
 * running, not a model answer (the plan's first calls ride on its own message, which is one).
 */
export function isPlanWave(message: Message): boolean {
  return (
    message.role === 'assistant' &&
    message.content === '' &&
    (message.toolCalls?.length ?? 0) > 0 &&
    (message.toolCalls ?? []).every((call) => STEP_CALL.test(call.id))
  );
}

/** The message that carries a plan: its text starts `Plan <N>:` and the plan's JSON follows. */
export function planMessage(number: number, plan: Plan): AssistantMessage {
  return { role: 'assistant', content: `${PLAN_PREFIX}${number}:\n${JSON.stringify(plan)}` };
}

function planInMessage(message: Message & { role: 'assistant' }): { number: number; plan: Plan } | undefined {
  const header = /^Plan (\d+):\n/.exec(message.content);
  if (!header) return undefined;
  try {
    const parsed = planSchema.safeParse(JSON.parse(message.content.slice(header[0].length)));
    return parsed.success ? { number: Number(header[1]), plan: parsed.data } : undefined;
  } catch {
    return undefined;
  }
}
