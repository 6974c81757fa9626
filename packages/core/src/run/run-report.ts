import type { Span } from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import { bundleOf } from '../bundle/bundle.js';
import { BatonAttr, GenAI, GenAIOperation } from '../tracing/attributes.js';
import { audit } from './audit.js';
import type { LoopState } from './state.js';
import type { RunOptions, RunResult } from './types.js';

/** The run's end in the audit trail, and the guard that stopped it when one did. */
export async function auditEnd(options: RunOptions, result: RunResult): Promise<void> {
  const base = { at: Date.now(), agent: result.agent, runId: result.runId };
  if (result.status === 'guardrail_tripped') {
    const details = result.error?.details ?? {};
    await audit(options, {
      ...base,
      kind: 'guard.trip',
      guard: String(details.guard ?? 'unknown').slice(0, 256),
      reason: String(details.reason ?? result.error?.message ?? '').slice(0, 4_096),
      ...(typeof details.tool === 'string' ? { tool: details.tool } : {}),
    });
  }
  await audit(options, { ...base, kind: 'run.end', status: result.status });
}

export function annotateRunSpan(span: Span, agent: Agent, state: LoopState, options: RunOptions): void {
  span.setAttributes({
    [GenAI.OPERATION_NAME]: GenAIOperation.INVOKE_AGENT,
    [GenAI.AGENT_NAME]: agent.name,
    [GenAI.AGENT_DESCRIPTION]: agent.description,
    [GenAI.PROVIDER_NAME]: agent.config.model.provider,
    [GenAI.REQUEST_MODEL]: agent.config.model.id,
    [BatonAttr.RUN_ID]: state.runId,
    [BatonAttr.BUNDLE]: bundleOf(agent).hash,
  });
  if (options.parentRunId) span.setAttribute(BatonAttr.PARENT_RUN_ID, options.parentRunId);
  if (options.sessionId) span.setAttribute(GenAI.CONVERSATION_ID, options.sessionId);
  if (options.userId) span.setAttribute(BatonAttr.USER_ID, options.userId);
  if (options.tenantId) span.setAttribute(BatonAttr.TENANT_ID, options.tenantId);
}
