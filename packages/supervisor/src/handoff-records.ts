import type { BatonError, HandoffContract, RunResult } from '@baton/core';
import { handoffError } from './member-call.js';
import type { HandoffRecord, PendingCall } from './types.js';

/** A member's answer and whether it counts: completed, and its output valid for the contract. */
export interface CheckedOutput {
  ok: boolean;
  output: unknown;
}

/**
 * Validates a member's output against its contract: a bad answer is the member's fault, so its result
 * becomes a failed one that says what was wrong.
 */
export function checkOutput<I, O>(
  member: string,
  contract: HandoffContract<I, O> | undefined,
  result: RunResult<O>,
): CheckedOutput {
  let ok = result.status === 'completed';
  let output: unknown = result.output;
  if (ok && contract) {
    const parsed = contract.output.safeParse(result.output);
    if (parsed.success) output = parsed.data;
    else {
      ok = false;
      result.status = 'failed';
      result.error = handoffError(member, contract.id, 'output', parsed.error.issues).toJSON();
    }
  }
  return { ok, output };
}

/** One handoff as the transcript has it. */
export function handoffRecord(
  handoff: { round: number; from: string; to: string; input: unknown; durationMs: number },
  contract: { id: string } | undefined,
  compacted: boolean | undefined,
  result: RunResult,
  { ok, output }: CheckedOutput,
): HandoffRecord {
  const record: HandoffRecord = {
    round: handoff.round,
    from: handoff.from,
    to: handoff.to,
    input: handoff.input,
    status: result.status,
    runId: result.runId,
    spanId: result.spanId,
    durationMs: handoff.durationMs,
  };
  if (contract) record.contract = contract.id;
  if (compacted) record.compacted = true;
  if (ok) record.output = output;
  if (result.error) record.error = result.error;
  return record;
}

/** Puts a record in the transcript at its handoff's dispatch place: parallel handoffs end in any order. */
export function transcribe(
  transcript: HandoffRecord[],
  order: WeakMap<HandoffRecord, number>,
  record: HandoffRecord,
  sequence: number,
): void {
  order.set(record, sequence);
  transcript.push(record);
  transcript.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
}

/** A handoff refused before it was sent (its input broke the contract): the sender's fault, in the transcript. */
export function rejectedRecord(
  round: number,
  from: string,
  to: string,
  contract: string,
  input: unknown,
  error: BatonError,
): HandoffRecord {
  return {
    round,
    from,
    to,
    contract,
    input,
    status: 'failed',
    runId: '',
    spanId: '',
    durationMs: 0,
    error: error.toJSON(),
  };
}

/** The calls a member paused on, waiting for a person to decide. */
export function pendingCalls(member: string, result: RunResult): PendingCall[] {
  const pending: PendingCall[] = [];
  const state = result.state;
  for (const toolCallId of state?.pending?.awaiting ?? []) {
    const call = state?.pending?.toolCalls.find((candidate) => toolCallId.startsWith(candidate.id));
    pending.push({
      member,
      runId: result.runId,
      toolCallId,
      tool: call?.name ?? 'unknown',
      args: call?.arguments,
    });
  }
  return pending;
}
