import { BatonAttr, GenAI, GenAIOperation } from '@baton/core';
import type { SpanRecord } from '@baton/telemetry';
import { numberAttr, statusOfSpan } from './runs.js';
import type { AgentRow } from './wire.js';

export function agents(
  result: Record<string, unknown> | undefined,
  spans: readonly SpanRecord[],
): AgentRow[] {
  const members = result?.members;
  if (members && typeof members === 'object') {
    return Object.values(members as Record<string, Record<string, unknown>>).map((member) => {
      const usage = (member.usage ?? {}) as { inputTokens?: number; outputTokens?: number };
      const row: AgentRow = {
        agent: String(member.agent ?? '?'),
        status: String(member.status ?? 'unknown'),
        invocations: Number(member.invocations ?? 0),
        failures: Number(member.failures ?? 0),
        steps: Number(member.steps ?? 0),
        tokens: { input: usage.inputTokens ?? 0, output: usage.outputTokens ?? 0 },
        durationMs: Number(member.durationMs ?? 0),
      };
      if (typeof member.costUsd === 'number') row.costUsd = member.costUsd;
      return row;
    });
  }
  const rows = new Map<string, AgentRow>();
  for (const span of spans) {
    if (span.attributes[GenAI.OPERATION_NAME] !== GenAIOperation.INVOKE_AGENT) continue;
    const agent = String(span.attributes[GenAI.AGENT_NAME] ?? span.name);
    const row = rows.get(agent) ?? {
      agent,
      status: 'completed',
      invocations: 0,
      failures: 0,
      steps: 0,
      tokens: { input: 0, output: 0 },
      durationMs: 0,
    };
    const status = statusOfSpan(span);
    row.invocations++;
    if (status !== 'completed') row.failures++;
    row.status = status;
    row.steps += numberAttr(span, BatonAttr.STEPS) ?? 0;
    row.tokens.input += numberAttr(span, GenAI.USAGE_INPUT_TOKENS) ?? 0;
    row.tokens.output += numberAttr(span, GenAI.USAGE_OUTPUT_TOKENS) ?? 0;
    const cost = numberAttr(span, BatonAttr.COST_USD);
    if (cost !== undefined) row.costUsd = (row.costUsd ?? 0) + cost;
    row.durationMs += span.durationMs;
    rows.set(agent, row);
  }
  return [...rows.values()];
}
