/**
 * The metric names Baton records, and their units. Exported so the Prometheus rules shipped in
 * `ops/prometheus/baton-rules.yml`, `baton stats` and dashboards refer to one list. Through the
 * Prometheus exporter a name's dots become underscores, a counter gains `_total` and a histogram gives
 * `_bucket`, `_sum` and `_count` series (`baton.agent.run.duration`, in seconds →
 * `baton_agent_run_duration_bucket{le="15"}`); attribute keys become labels the same way
 * (`gen_ai.agent.name` → `gen_ai_agent_name`).
 */
export const BatonMetric = {
  /** Counter: agent runs that ended, by status (and agent, model, team, tenant, bundle). */
  RUNS: 'baton.agent.run.ended',
  /** Histogram: steps (model calls) per agent run. */
  RUN_STEPS: 'baton.agent.run.steps',
  /** Histogram, seconds: an agent run's wall time. */
  RUN_DURATION: 'baton.agent.run.duration',
  /** Histogram, tokens: input + output tokens of one agent run. */
  RUN_TOKENS: 'baton.agent.run.tokens',
  /** Histogram, USD: the cost of one agent run whose every step had a price. */
  RUN_COST: 'baton.agent.run.cost',
  /** Counter: runs with steps whose price is unknown (their cost is not recorded as $0). */
  RUNS_UNPRICED: 'baton.agent.run.unpriced',
  /** Histogram, seconds: one step (a model call and the tools it asked for). */
  STEP_DURATION: 'baton.agent.step.duration',
  /** Counter: tool calls, by tool and outcome. */
  TOOL_CALLS: 'baton.tool.calls',
  /** Counter: tool calls that failed, by tool and error code. */
  TOOL_ERRORS: 'baton.tool.errors',
  /** Counter: decisions on calls that needed a person (approve, edit, deny) and requests left pending. */
  APPROVALS: 'baton.approvals',
  /** Counter: questions put to a person (ask_human) — recorded by the recovery module. */
  ESCALATIONS: 'baton.escalations',
  /** Counter: runs a guardrail stopped, by guard. */
  GUARD_TRIPS: 'baton.guard.trips',
  /** Counter: cache lookups, by kind (`tool` results, `model` responses) and hit. */
  CACHE_LOOKUPS: 'baton.cache.lookups',
  /** Counter, tokens: input + output tokens that model-cache hits did not spend (by model, agent, tenant). */
  CACHE_SAVED_TOKENS: 'baton.cache.saved_tokens',
  /** Counter: team runs that ended, by status and stop reason. */
  TEAM_RUNS: 'baton.team.run.ended',
  /** Histogram, seconds: a team run's wall time. */
  TEAM_DURATION: 'baton.team.run.duration',
  /** Histogram, USD: the cost of a priced team run. */
  TEAM_COST: 'baton.team.run.cost',
  /** Histogram, tokens: input + output tokens of a team run. */
  TEAM_TOKENS: 'baton.team.run.tokens',
  /** Counter: invocations a worker served over the bus, by agent and outcome. */
  BUS_INVOCATIONS: 'baton.bus.invocations',
  /** Counter: messages the bus dead-lettered, by subject kind and reason. */
  BUS_DEAD_LETTERS: 'baton.bus.dead_letters',
} as const;

/** Metric attribute keys beyond the GenAI ones (`gen_ai.agent.name`, `gen_ai.request.model`, `gen_ai.tool.name`). */
export const MetricAttr = {
  STATUS: 'baton.run.status',
  TEAM: 'baton.team',
  TENANT: 'baton.tenant.id',
  BUNDLE: 'baton.bundle',
  ERROR_TYPE: 'error.type',
  OUTCOME: 'baton.outcome',
  DECISION: 'baton.approval.decision',
  GUARD: 'baton.guard',
  CACHE_HIT: 'baton.cache.hit',
  CACHE_KIND: 'baton.cache.kind',
  STOP_REASON: 'baton.stop_reason',
} as const;

/** Bucket boundaries fitted to agent workloads (the SDK's defaults are for milliseconds of HTTP). */
export const Buckets = {
  seconds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 60, 120, 300],
  stepSeconds: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
  steps: [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50],
  tokens: [500, 1_000, 2_500, 5_000, 7_500, 10_000, 15_000, 25_000, 50_000, 100_000],
  usd: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
} as const;
