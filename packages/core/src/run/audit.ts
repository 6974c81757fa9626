import type { AuditEvent } from '../audit/types.js';
import type { ToolResult } from '../tools/result.js';
import type { RunOptions } from './types.js';

/**
 * Appends to the run's audit log, when it has one. Awaited: a run whose actions cannot be audited stops
 * (the error becomes the run's), rather than acting with no trail.
 */
export async function audit(options: RunOptions, event: AuditEvent): Promise<void> {
  if (!options.audit) return;
  const stamped: AuditEvent = { ...event };
  if (options.userId !== undefined) stamped.userId = options.userId;
  if (options.tenantId !== undefined) stamped.tenantId = options.tenantId;
  await options.audit.record(stamped);
}

/** How a tool call ended, as the audit trail names it. */
export function auditOutcome(result: ToolResult, heldBack: boolean): 'ok' | 'error' | 'denied' | 'skipped' {
  if (result.ok) return heldBack ? 'skipped' : 'ok';
  return result.error.code === 'TOOL_PERMISSION_DENIED' || result.error.code === 'GUARDRAIL_TRIPPED'
    ? 'denied'
    : 'error';
}

/** What the audit trail keeps of a tool's arguments: redacted by the run's hook, secrets already gone. */
export function auditArgs(options: RunOptions, args: unknown): unknown {
  return options.auditRedact ? options.auditRedact(args) : args;
}
