import {
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStore,
  BatonError,
  effectiveStatus,
} from '@baton/core';
import { z } from 'zod';
import { redact } from './redact.js';

export const userSchema = z.string().trim().min(1, 'say who decides').max(100);

export const decisionBodySchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('approve'), user: userSchema }),
  z.object({ action: z.literal('deny'), user: userSchema, reason: z.string().trim().max(1_000).optional() }),
  z.object({ action: z.literal('edit'), user: userSchema, args: z.unknown() }),
]);

export type DecisionBody = z.infer<typeof decisionBodySchema>;

/** A record as the browser sees it: its effective status, arguments and preview redacted. */
export function forBrowser(record: ApprovalRecord, now = Date.now()): ApprovalRecord {
  const shown: ApprovalRecord = {
    ...record,
    status: effectiveStatus(record, now),
    args: redact(record.args),
  };
  if (record.preview !== undefined) shown.preview = redact(record.preview);
  return shown;
}

/**
 * Checks edited arguments against the JSON Schema the tool recorded with the call. A person's edit must
 * be something the tool accepts, so a bad edit is refused here with the issues, before it is decided.
 */
export function checkEditedArgs(record: ApprovalRecord, args: unknown): void {
  if (record.schema === undefined || record.schema === null) return;
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(record.schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new BatonError(
      'TOOL_INPUT_INVALID',
      `The tool's schema cannot be checked here: ${(error as Error).message}`,
      {
        hint: 'Approve or deny the call, or edit it from the CLI',
      },
    );
  }
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    throw new BatonError('TOOL_INPUT_INVALID', `The edited arguments do not match ${record.tool}'s schema`, {
      details: {
        issues: parsed.error.issues.map((issue) => ({
          path: issue.path.map(String).join('.'),
          message: issue.message,
        })),
      },
      hint: 'Fix the arguments and decide again',
    });
  }
}

/** Decides one pending call with the durable store: once, by `user`, at the store's time. */
export async function decide(
  store: ApprovalStore,
  runId: string,
  toolCallId: string,
  body: DecisionBody,
): Promise<ApprovalRecord> {
  const record = await store.get(runId, toolCallId);
  if (!record) {
    throw new BatonError('APPROVAL_UNKNOWN', `No approval for call ${toolCallId} of run ${runId}`);
  }
  let decision: ApprovalDecision;
  if (body.action === 'approve') decision = { decision: 'approve' };
  else if (body.action === 'deny')
    decision = body.reason ? { decision: 'deny', reason: body.reason } : { decision: 'deny' };
  else {
    checkEditedArgs(record, body.args);
    decision = { decision: 'edit', args: body.args };
  }
  return store.decide(runId, toolCallId, decision, `${body.user} (console)`);
}
