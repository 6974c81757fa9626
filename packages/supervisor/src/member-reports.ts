import { addUsage, emptyUsage, type RunResult, type UnpricedUsage } from '@baton/core';
import type { MemberReport } from './types.js';

/**
 * Adds one invocation to its member's report. The report's status is the last invocation's; a failure
 * stays on it (error and span) even when a later invocation of the member succeeds.
 */
export function recordInvocation(members: Map<string, MemberReport>, name: string, result: RunResult): void {
  let report = members.get(name);
  if (!report) {
    report = {
      agent: name,
      status: result.status,
      invocations: 0,
      failures: 0,
      steps: 0,
      usage: emptyUsage(),
      costUsd: 0,
      durationMs: 0,
      spanId: result.spanId,
      runIds: [],
    };
    members.set(name, report);
  }
  report.invocations++;
  report.steps += result.steps;
  addUsage(report.usage, result.usage);
  report.costUsd += result.costUsd;
  if (result.unpriced) report.unpriced = mergeUnpriced(report.unpriced, result.unpriced);
  report.durationMs += result.durationMs;
  report.runIds.push(result.runId);
  report.status = result.status;
  // A failure stays on the report (error, span) even when a later invocation of the member succeeds.
  if (result.status !== 'completed') {
    report.failures++;
    report.spanId = result.spanId;
    if (result.error) report.error = result.error;
  } else if (report.failures === 0) {
    report.spanId = result.spanId;
  }
}

function mergeUnpriced(into: UnpricedUsage | undefined, extra: UnpricedUsage): UnpricedUsage {
  if (!into) return { steps: extra.steps, models: [...extra.models] };
  into.steps += extra.steps;
  for (const model of extra.models) if (!into.models.includes(model)) into.models.push(model);
  return into;
}

/** The members' unpriced steps together, or undefined when every step had a price. */
export function sumUnpriced(reports: Iterable<MemberReport>): UnpricedUsage | undefined {
  let total: UnpricedUsage | undefined;
  for (const report of reports) if (report.unpriced) total = mergeUnpriced(total, report.unpriced);
  return total;
}
