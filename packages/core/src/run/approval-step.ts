import type { ApprovalRecord } from '../approvals/types.js';
import { BatonError } from '../errors.js';
import { recordApproval } from '../metrics/run.js';
import type { ToolCall } from '../model/types.js';
import { isEscalationTool } from '../recovery/ask-human.js';
import { countEscalation } from '../recovery/metrics.js';
import type { AnyTool } from '../tools/define.js';
import { type PreparedCall, prepareToolCall } from '../tools/validate.js';
import { raceAbort } from '../util/abort.js';
import { audit, auditArgs } from './audit.js';
import type { ToolStepContext } from './tool-call.js';
import type { ApprovalDecision, ApprovalRequest, RunStatus } from './types.js';

export type ApprovalOutcome = { stop: true; status: RunStatus; error: BatonError } | undefined;

/** Why a call needs a person: its risk, or because it may already have run (interrupted, `once`). */
type Need = { id: string; reason: 'risk' | 'possible_duplicate' | 'untrusted_context' | 'escalation' };

/**
 * Settles every call of a step that needs a person's decision, before anything runs. A decision comes
 * from, in order: the decisions given to `resume`, the run's journal (a decision recorded before a
 * crash), the `approve` handler, the approval store (decided from another process). New decisions are
 * journaled. A denial stops the run (`denied`): a person said no, and the agent must not route around
 * it. With no decision yet the run pauses (`awaiting_approval`) and the request is recorded where a
 * person can find it; `resume` continues exactly here.
 *
 * A call that may already have run (its intent was journaled, no outcome) of a `once` tool needs its
 * own decision, under `<toolCallId>~rerun`: approving the original call is not approving a second run.
 */
export async function settleApprovals(
  calls: ToolCall[],
  prepared: PreparedCall[],
  decided: Record<string, ApprovalDecision>,
  ctx: ToolStepContext,
): Promise<ApprovalOutcome> {
  const { state, options, journal } = ctx;
  const awaiting: string[] = [];
  /** Who decided, when the decision came from the approval store (it says). */
  const decidedBy = new Map<string, string>();
  for (const [index, call] of calls.entries()) {
    const entry = prepared[index] as PreparedCall;
    if (!entry.ok) continue;
    if (journal?.outcome(call.id) && entry.tool.replay !== 'execute') continue;
    const need = needOf(call, entry, ctx);
    if (!need) continue;
    let decision: ApprovalDecision | undefined = decided[need.id] ?? journal?.decision(need.id);
    const fromJournal = decision !== undefined && journal?.decision(need.id) !== undefined;
    if (!decision && options.approve) {
      emitApproval(ctx, 'approval.requested', call);
      if (need.reason === 'escalation') countEscalation(ctx.agent.name, call.name);
      const request: ApprovalRequest = {
        runId: state.runId,
        agent: ctx.agent.name,
        toolCallId: need.id,
        tool: call.name,
        risk: entry.tool.risk,
        args: entry.args,
        reason: need.reason,
      };
      const preview = await previewOf(entry);
      if (preview !== undefined) request.preview = preview;
      decision = await raceAbort(Promise.resolve(options.approve(request)), ctx.signal);
    }
    if (!decision && options.approvals) {
      const record = await decisionFromStore(call, entry, need, ctx);
      decision = record?.decision;
      if (record?.decidedBy) decidedBy.set(need.id, record.decidedBy);
    }
    if (decision) {
      decided[need.id] = decision;
      if (!fromJournal) {
        journal?.append({ type: 'approval.decided', at: Date.now(), toolCallId: need.id, decision });
        recordApproval(ctx.agent, state, options, call.name, decision.decision);
        emitApproval(ctx, 'approval.resolved', call, decision.decision);
        await audit(options, {
          kind: 'approval.decision',
          at: Date.now(),
          agent: ctx.agent.name,
          runId: state.runId,
          tool: call.name,
          toolCallId: need.id,
          args: auditArgs(options, decision.decision === 'edit' ? decision.args : entry.args),
          decision: decision.decision,
          ...(decidedBy.get(need.id) ? { decidedBy: decidedBy.get(need.id) } : {}),
          ...(decision.decision === 'deny' && decision.reason
            ? { reason: decision.reason.slice(0, 4_096) }
            : {}),
        });
      }
    } else {
      awaiting.push(need.id);
      if (!options.approve) emitApproval(ctx, 'approval.requested', call);
      if (!options.approve && need.reason === 'escalation' && !journal?.wasRequested(need.id)) {
        countEscalation(ctx.agent.name, call.name);
      }
      if (!journal?.wasRequested(need.id)) recordApproval(ctx.agent, state, options, call.name, 'pending');
      if (journal && !journal.wasRequested(need.id)) {
        journal.append({
          type: 'approval.requested',
          at: Date.now(),
          toolCallId: need.id,
          tool: call.name,
          args: entry.args,
          reason: need.reason,
        });
      }
      continue;
    }
    if (decision.decision === 'deny') {
      const reason = decision.reason ? `: ${decision.reason}` : '';
      state.pending = undefined;
      return {
        stop: true,
        status: 'denied',
        error: new BatonError('APPROVAL_DENIED', `The call to "${call.name}" was denied${reason}`, {
          details: { tool: call.name, toolCallId: call.id },
        }),
      };
    }
    if (decision.decision === 'edit') {
      prepared[index] = prepareToolCall(
        { ...call, arguments: decision.args },
        ctx.agent.tools,
        options.toolPolicy,
      );
    }
  }
  if (awaiting.length === 0) return undefined;
  state.pending = { toolCalls: calls, awaiting, decided };
  return {
    stop: true,
    status: 'awaiting_approval',
    error: new BatonError('APPROVAL_REQUIRED', `Waiting for approval of ${awaiting.length} tool call(s)`, {
      details: { toolCallIds: awaiting },
    }),
  };
}

/**
 * False only when no call of the step can need a decision: every tool is a read tool with no approval
 * rule, the run has nothing journaled and no decision is pending. Anything else goes through
 * settleApprovals, which decides call by call.
 */
export function mayNeedApproval(prepared: readonly PreparedCall[], ctx: ToolStepContext): boolean {
  if (ctx.journal || ctx.state.pending) return true;
  for (const entry of prepared) {
    if (
      entry.ok &&
      (entry.tool.risk !== 'read' || entry.tool.once || entry.tool.needsApproval(entry.args as never))
    )
      return true;
  }
  return false;
}

function needOf(call: ToolCall, entry: PreparedCall & { ok: true }, ctx: ToolStepContext): Need | undefined {
  // A dry run executes no write or destructive call: there is nothing to approve.
  if (ctx.options.dryRun && entry.tool.risk !== 'read') return undefined;
  if (entry.tool.once && ctx.journal?.interrupted(call.id)) {
    return { id: `${call.id}~rerun`, reason: 'possible_duplicate' };
  }
  if (entry.tool.needsApproval(entry.args as never)) {
    return { id: call.id, reason: isEscalationTool(entry.tool) ? 'escalation' : 'risk' };
  }
  if (untrustedConsent(entry.tool, ctx) === 'approve') return { id: call.id, reason: 'untrusted_context' };
  return undefined;
}

/**
 * What the untrusted-content policy says about a call: nothing (`run`), ask a person, or refuse. Only
 * write and destructive calls made after the run read untrusted content are concerned.
 */
export function untrustedConsent(tool: AnyTool, ctx: ToolStepContext): 'run' | 'approve' | 'deny' {
  if (!ctx.state.tainted || tool.risk === 'read' || tool.safeAfterUntrusted) return 'run';
  const policy = ctx.agent.config.untrustedPolicy ?? 'approve';
  return policy === 'off' ? 'run' : policy;
}

/** The store's decision, or undefined after recording the request there for a person to find. */
async function decisionFromStore(
  call: ToolCall,
  entry: PreparedCall & { ok: true },
  need: Need,
  ctx: ToolStepContext,
): Promise<ApprovalRecord | undefined> {
  const { options, state } = ctx;
  const store = options.approvals;
  if (!store) return undefined;
  let record: ApprovalRecord | undefined = await store.get(state.runId, need.id);
  if (!record) {
    const request: Parameters<typeof store.request>[0] = {
      runId: state.runId,
      toolCallId: need.id,
      agent: ctx.agent.name,
      tool: call.name,
      risk: entry.tool.risk,
      args: entry.args,
      reason: need.reason,
      requestedAt: Date.now(),
    };
    if (options.approvalTimeoutMs !== undefined) request.expiresAt = Date.now() + options.approvalTimeoutMs;
    const preview = await previewOf(entry);
    if (preview !== undefined) request.preview = preview;
    request.schema = entry.tool.spec.parameters;
    if (options.parentRunId !== undefined) request.teamRunId = options.parentRunId;
    record = await store.request(request);
  }
  return record.status === 'pending' ? undefined : record;
}

/** What the call would do, when the tool can say; a preview that fails is left out, not fatal. */
export async function previewOf(entry: PreparedCall & { ok: true }): Promise<unknown> {
  if (!entry.tool.preview) return undefined;
  try {
    return await entry.tool.preview(entry.args as never);
  } catch {
    return undefined;
  }
}

function emitApproval(
  ctx: ToolStepContext,
  type: 'approval.requested' | 'approval.resolved',
  call: ToolCall,
  decision?: ApprovalDecision['decision'],
): void {
  if (!ctx.events?.listens(type)) return;
  const base = {
    runId: ctx.state.runId,
    agent: ctx.agent.name,
    at: Date.now(),
    toolCallId: call.id,
    tool: call.name,
  };
  if (type === 'approval.requested') ctx.events.emit({ ...base, type, args: call.arguments });
  else ctx.events.emit({ ...base, type, decision: decision ?? 'approve' });
}
