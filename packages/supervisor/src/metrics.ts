import { BatonMetric, Buckets, lazyInstruments, MetricAttr } from '@baton/core';
import type { Attributes } from '@opentelemetry/api';
import type { TeamResult } from './types.js';

const instruments = lazyInstruments('@baton/supervisor', (meter) => ({
  runs: meter.createCounter(BatonMetric.TEAM_RUNS, { description: 'Team runs that ended, by status' }),
  duration: meter.createHistogram(BatonMetric.TEAM_DURATION, {
    description: 'Wall time of a team run',
    unit: 's',
    advice: { explicitBucketBoundaries: [...Buckets.seconds] },
  }),
  tokens: meter.createHistogram(BatonMetric.TEAM_TOKENS, {
    description: 'Input + output tokens of a team run (every member)',
    unit: '{token}',
    advice: { explicitBucketBoundaries: [...Buckets.tokens] },
  }),
  cost: meter.createHistogram(BatonMetric.TEAM_COST, {
    description: 'Cost in US dollars of a team run whose every step had a price',
    unit: 'USD',
    advice: { explicitBucketBoundaries: [...Buckets.usd] },
  }),
}));

/** A team run ended: its status and stop reason, wall time, tokens and (when every step was priced) cost. */
export function recordTeamEnd(
  result: TeamResult,
  tenantId: string | undefined,
  bundle: string | undefined,
): void {
  const m = instruments();
  if (m === undefined) return;
  const attributes: Attributes = {
    [MetricAttr.TEAM]: result.team,
    [MetricAttr.STATUS]: result.status,
    [MetricAttr.STOP_REASON]: result.stopReason.kind,
  };
  if (bundle !== undefined) attributes[MetricAttr.BUNDLE] = bundle;
  if (tenantId !== undefined) attributes[MetricAttr.TENANT] = tenantId;
  m.runs.add(1, attributes);
  m.duration.record(result.durationMs / 1_000, attributes);
  m.tokens.record(result.usage.inputTokens + result.usage.outputTokens, attributes);
  if (!result.unpriced) m.cost.record(result.costUsd, attributes);
}
