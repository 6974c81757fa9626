import {
  type Attributes,
  type Context,
  type Counter,
  createContextKey,
  type Histogram,
} from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import { bundleOf } from '../bundle/bundle.js';
import { totalTokens } from '../model/usage.js';
import type { RunOptions, RunResult } from '../run/types.js';
import type { ToolResult } from '../tools/result.js';
import { GenAI } from '../tracing/attributes.js';
import { lazyInstruments } from './instruments.js';
import { BatonMetric, Buckets, MetricAttr } from './names.js';

interface RunInstruments {
  runs: Counter;
  steps: Histogram;
  duration: Histogram;
  tokens: Histogram;
  cost: Histogram;
  unpriced: Counter;
  step: Histogram;
  toolCalls: Counter;
  toolErrors: Counter;
  approvals: Counter;
  guardTrips: Counter;
  cacheLookups: Counter;
  cacheSavedTokens: Counter;
}

const instruments = lazyInstruments<RunInstruments>('@baton/core', (meter) => ({
  runs: meter.createCounter(BatonMetric.RUNS, { description: 'Agent runs that ended, by status' }),
  steps: meter.createHistogram(BatonMetric.RUN_STEPS, {
    description: 'Steps (model calls) per agent run',
    unit: '{step}',
    advice: { explicitBucketBoundaries: [...Buckets.steps] },
  }),
  duration: meter.createHistogram(BatonMetric.RUN_DURATION, {
    description: 'Wall time of an agent run',
    unit: 's',
    advice: { explicitBucketBoundaries: [...Buckets.seconds] },
  }),
  tokens: meter.createHistogram(BatonMetric.RUN_TOKENS, {
    description: 'Input + output tokens of an agent run',
    unit: '{token}',
    advice: { explicitBucketBoundaries: [...Buckets.tokens] },
  }),
  cost: meter.createHistogram(BatonMetric.RUN_COST, {
    description: 'Cost in US dollars of an agent run whose every step had a price',
    unit: 'USD',
    advice: { explicitBucketBoundaries: [...Buckets.usd] },
  }),
  unpriced: meter.createCounter(BatonMetric.RUNS_UNPRICED, {
    description: 'Agent runs with steps whose price is unknown (their cost is not recorded)',
  }),
  step: meter.createHistogram(BatonMetric.STEP_DURATION, {
    description: 'Wall time of one step: a model call and the tool calls it asked for',
    unit: 's',
    advice: { explicitBucketBoundaries: [...Buckets.stepSeconds] },
  }),
  toolCalls: meter.createCounter(BatonMetric.TOOL_CALLS, { description: 'Tool calls, by tool and outcome' }),
  toolErrors: meter.createCounter(BatonMetric.TOOL_ERRORS, {
    description: 'Tool calls that failed, by tool and error code',
  }),
  approvals: meter.createCounter(BatonMetric.APPROVALS, {
    description: 'Calls that needed a person: decisions (approve, edit, deny) and requests left pending',
  }),
  guardTrips: meter.createCounter(BatonMetric.GUARD_TRIPS, {
    description: 'Runs a guardrail stopped, by guard',
  }),
  cacheLookups: meter.createCounter(BatonMetric.CACHE_LOOKUPS, {
    description: 'Cache lookups (tool results and model responses), by kind and hit',
  }),
  cacheSavedTokens: meter.createCounter(BatonMetric.CACHE_SAVED_TOKENS, {
    description: 'Input + output tokens that model-cache hits did not spend',
    unit: '{token}',
  }),
}));

/**
 * The attribute sets of one agent in one team and tenant, made once and reused: the SDK hashes the
 * attributes of every data point, and a set it has seen before (the same object) costs it far less than
 * a fresh one — and allocates nothing here.
 */
interface AttributeSets {
  base: Attributes;
  byStatus: Map<string, Attributes>;
  /** `<tool>` → its ok and error sets; `<tool>\u0000<code>` → its error-code set. */
  tools: Map<string, { ok: Attributes; error: Attributes }>;
  toolErrors: Map<string, Attributes>;
  /** Guards, approval decisions and cache outcomes: rarer, keyed by their values. */
  other: Map<string, Attributes>;
}

/** What one run's data points share, found once per run (and only while metrics are recorded). */
interface RunMetrics {
  sets: AttributeSets;
  /** `performance.now()` when the current step started; 0 before the first. */
  stepAt: number;
}

/** Keyed by the run's loop state: dropped with it, whatever way the run ends. */
const running = new WeakMap<object, RunMetrics>();
/** Per agent, per `<team>\u0000<tenant>`: bounded by the metric's own cardinality. */
const attributeSets = new WeakMap<Agent, Map<string, AttributeSets>>();

const TEAM_KEY = createContextKey('baton.team');

/** A context whose runs are a team's members: their metrics carry `baton.team`. */
export function withTeam(parent: Context, team: string): Context {
  return parent.setValue(TEAM_KEY, team);
}

function teamOf(options: RunOptions): string | undefined {
  const value = options.traceContext?.getValue(TEAM_KEY);
  return typeof value === 'string' ? value : undefined;
}

function setsOf(agent: Agent, options: RunOptions): AttributeSets {
  const team = teamOf(options);
  const tenant = options.tenantId;
  const key = team === undefined && tenant === undefined ? '' : `${team ?? ''}\u0000${tenant ?? ''}`;
  let byScope = attributeSets.get(agent);
  if (byScope === undefined) {
    byScope = new Map();
    attributeSets.set(agent, byScope);
  }
  let sets = byScope.get(key);
  if (sets === undefined) {
    const base: Attributes = {
      [GenAI.AGENT_NAME]: agent.name,
      [GenAI.REQUEST_MODEL]: agent.config.model.id,
      [MetricAttr.BUNDLE]: bundleOf(agent).hash,
    };
    if (team !== undefined) base[MetricAttr.TEAM] = team;
    if (tenant !== undefined) base[MetricAttr.TENANT] = tenant;
    sets = { base, byStatus: new Map(), tools: new Map(), toolErrors: new Map(), other: new Map() };
    byScope.set(key, sets);
  }
  return sets;
}

function runMetricsOf(agent: Agent, state: object, options: RunOptions): RunMetrics {
  let run = running.get(state);
  if (run === undefined) {
    run = { sets: setsOf(agent, options), stepAt: 0 };
    running.set(state, run);
  }
  return run;
}

function cached(map: Map<string, Attributes>, key: string, make: () => Attributes): Attributes {
  let attributes = map.get(key);
  if (attributes === undefined) {
    attributes = make();
    map.set(key, attributes);
  }
  return attributes;
}

/**
 * A step starts: the previous one (if any) ended here. Called once per step by the loop; without a
 * meter provider it returns after one comparison.
 */
export function recordStepStart(agent: Agent, state: object, options: RunOptions): void {
  const m = instruments();
  if (m === undefined) return;
  const run = runMetricsOf(agent, state, options);
  const now = performance.now();
  if (run.stepAt !== 0) m.step.record((now - run.stepAt) / 1_000, run.sets.base);
  run.stepAt = now;
}

/** A run ended: its status, steps, wall time, tokens, cost, and the guard that stopped it. */
export function recordRunEnd(agent: Agent, state: object, options: RunOptions, result: RunResult): void {
  const m = instruments();
  if (m === undefined) return;
  const run = runMetricsOf(agent, state, options);
  running.delete(state);
  const { base } = run.sets;
  if (run.stepAt !== 0) m.step.record((performance.now() - run.stepAt) / 1_000, base);
  const attributes = cached(run.sets.byStatus, result.status, () => ({
    ...base,
    [MetricAttr.STATUS]: result.status,
  }));
  m.runs.add(1, attributes);
  m.steps.record(result.steps, attributes);
  m.duration.record(result.durationMs / 1_000, attributes);
  m.tokens.record(totalTokens(result.usage), attributes);
  // Usage without a price is unknown, never $0: such a run is counted, its cost left out of the histogram.
  if (result.unpriced) m.unpriced.add(1, base);
  else m.cost.record(result.costUsd, attributes);
  if (result.status === 'guardrail_tripped') {
    const detail = result.error?.details?.guard;
    const guard = typeof detail === 'string' ? detail : 'unknown';
    m.guardTrips.add(
      1,
      cached(run.sets.other, `guard\u0000${guard}`, () => ({ ...base, [MetricAttr.GUARD]: guard })),
    );
  }
}

/** A tool call finished (or was refused before running): its outcome and cache lookup (its time is on its span). */
export function recordToolCall(
  agent: Agent,
  state: object,
  options: RunOptions,
  tool: string,
  result: ToolResult,
  cacheHit: boolean | undefined,
): void {
  const m = instruments();
  if (m === undefined) return;
  const errorCode = result.ok ? undefined : result.error.code;
  const { sets } = runMetricsOf(agent, state, options);
  let byTool = sets.tools.get(tool);
  if (byTool === undefined) {
    const named = { ...sets.base, [GenAI.TOOL_NAME]: tool };
    byTool = {
      ok: { ...named, [MetricAttr.OUTCOME]: 'ok' },
      error: { ...named, [MetricAttr.OUTCOME]: 'error' },
    };
    sets.tools.set(tool, byTool);
  }
  m.toolCalls.add(1, errorCode === undefined ? byTool.ok : byTool.error);
  if (errorCode !== undefined) {
    m.toolErrors.add(
      1,
      cached(sets.toolErrors, `${tool}\u0000${errorCode}`, () => ({
        ...sets.base,
        [GenAI.TOOL_NAME]: tool,
        [MetricAttr.ERROR_TYPE]: errorCode,
      })),
    );
  }
  if (cacheHit !== undefined) {
    m.cacheLookups.add(
      1,
      cached(sets.other, `cache\u0000${cacheHit}`, () => ({
        ...sets.base,
        [MetricAttr.CACHE_KIND]: 'tool',
        [MetricAttr.CACHE_HIT]: cacheHit,
      })),
    );
  }
}

/** A call that needed a person: `approve`, `edit`, `deny`, or `pending` when the run pauses for it. */
export function recordApproval(
  agent: Agent,
  state: object,
  options: RunOptions,
  tool: string,
  decision: 'approve' | 'edit' | 'deny' | 'pending',
): void {
  const m = instruments();
  if (m === undefined) return;
  const { sets } = runMetricsOf(agent, state, options);
  m.approvals.add(
    1,
    cached(sets.other, `approval\u0000${tool}\u0000${decision}`, () => ({
      ...sets.base,
      [GenAI.TOOL_NAME]: tool,
      [MetricAttr.DECISION]: decision,
    })),
  );
}

/** One model-cache lookup, as a cached model sees it: the run's agent and tenant when it is in one. */
export interface ModelCacheLookup {
  hit: boolean;
  /** Input + output tokens of the stored response (0 on a miss). */
  savedTokens: number;
  model: string;
  agent: string | undefined;
  tenantId: string | undefined;
}

/**
 * Attribute sets of model-cache lookups by agent, model, tenant and hit. A cached model is handed a
 * request, not the agent, so these carry no bundle or team. Bounded: past the cap the sets are made
 * again, as a new tenant's would be.
 */
const modelCacheSets = new Map<string, Attributes>();
const MODEL_CACHE_SETS_MAX = 1_000;

/** A cached model looked a request up: counted by kind `model` and hit, with the tokens a hit saved. */
export function recordModelCacheLookup(lookup: ModelCacheLookup): void {
  const m = instruments();
  if (m === undefined) return;
  const key = `${lookup.agent ?? ''}\u0000${lookup.model}\u0000${lookup.tenantId ?? ''}\u0000${lookup.hit}`;
  let attributes = modelCacheSets.get(key);
  if (attributes === undefined) {
    if (modelCacheSets.size >= MODEL_CACHE_SETS_MAX) modelCacheSets.clear();
    attributes = { [GenAI.REQUEST_MODEL]: lookup.model };
    if (lookup.agent !== undefined) attributes[GenAI.AGENT_NAME] = lookup.agent;
    if (lookup.tenantId !== undefined) attributes[MetricAttr.TENANT] = lookup.tenantId;
    attributes[MetricAttr.CACHE_KIND] = 'model';
    attributes[MetricAttr.CACHE_HIT] = lookup.hit;
    modelCacheSets.set(key, attributes);
  }
  m.cacheLookups.add(1, attributes);
  if (lookup.hit && lookup.savedTokens > 0) m.cacheSavedTokens.add(lookup.savedTokens, attributes);
}
