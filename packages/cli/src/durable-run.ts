import { type ApprovalRecord, type EventHub, effectiveStatus, waitForDecisions } from '@baton/core';
import { type PendingCall, resumeTeam, type Team, type TeamResult } from '@baton/supervisor';
import type { TeamRunEvent } from '@baton/teams';
import { argsLine, decisionCommands, decisionLine, expiry } from './approval-text.js';
import { CliError, EXIT } from './errors.js';
import type { Io } from './io.js';
import type { DurableStores } from './stores.js';

/**
 * Ctrl-C while a journaled run waits for decisions stops the wait, not the run: the command that
 * waits sets `controller`, and the signal handler aborts it instead of the team.
 */
export interface WaitInterrupt {
  controller?: AbortController;
}

export interface DurableDrive {
  team: Team;
  runId: string;
  /** Start the run with this input; without it the journaled run is resumed. */
  start?: { input: unknown };
  stores: DurableStores;
  /** The command that resumes this run, printed when the command stops while the run is paused. */
  resumeCommand: string;
  /** Wait for the decisions and go on (default); false: stop at the first pause. */
  wait: boolean;
  approvalTimeoutMs?: number;
  /** Resume a journal written by another team configuration anyway. */
  migrate?: boolean;
  events: EventHub<TeamRunEvent>;
  /** Aborts the team (Ctrl-C while it runs). */
  signal: AbortSignal;
  interrupt: WaitInterrupt;
  io: Io;
  /** The pending calls go to stderr instead of stdout (stdout is for the JSON document). */
  json: boolean;
}

export interface DurableOutcome {
  result: TeamResult;
  /** True when the command stops with the run still paused (`--no-wait`, or Ctrl-C while waiting). */
  paused: boolean;
}

/**
 * Runs (or resumes) a journaled team until it ends. Each time it pauses for approval, the pending
 * calls are printed with the commands that decide them; then it waits for the decisions — made in any
 * process — and resumes the run from its journal, in this process. With `wait: false`, or when the
 * wait is interrupted, it stops there and says how to resume.
 */
export async function driveDurable(drive: DurableDrive): Promise<DurableOutcome> {
  const { team, runId, stores, io } = drive;
  const options = {
    journal: stores.journal,
    approvals: stores.approvals,
    runId,
    events: drive.events,
    signal: drive.signal,
    ...(drive.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: drive.approvalTimeoutMs } : {}),
    ...(drive.migrate ? { migrate: true } : {}),
  };
  let result = drive.start
    ? await team.run(drive.start.input, options)
    : await resumeTeam(team, runId, options);
  const say = drive.json ? io.err : io.out;
  /** Calls already decided while this command waited: a run that pauses on them again would loop. */
  const waitedOn = new Set<string>();
  const keyOf = (call: PendingCall) => `${call.runId}\u0000${call.toolCallId}`;
  for (;;) {
    if (result.status !== 'awaiting_approval' || drive.signal.aborted) return { result, paused: false };
    const pending = result.pending ?? [];
    if (pending.length > 0 && pending.every((call) => waitedOn.has(keyOf(call)))) {
      throw new CliError(
        `Run ${runId} paused again on calls that were already decided: ${pending.map((call) => `${call.tool} (${call.toolCallId})`).join(', ')}`,
        EXIT.NOT_COMPLETED,
        `Look at the records: baton approvals list --status all --run ${runId}`,
      );
    }
    await printPending(pending, drive, say);
    if (!drive.wait || pending.length === 0) {
      say(`Resume it once decided: ${drive.resumeCommand}`);
      return { result, paused: true };
    }
    io.err(
      'Waiting for the decisions (any process can make them: the commands above, the library, the gateway). ' +
        'Ctrl-C stops waiting; the run stays paused.',
    );
    const waiting = new AbortController();
    drive.interrupt.controller = waiting;
    let decided: ApprovalRecord[];
    try {
      decided = await waitForDecisions(
        stores.approvals,
        pending.map((call) => ({ runId: call.runId, toolCallId: call.toolCallId })),
        { signal: waiting.signal },
      );
    } catch (error) {
      if (!waiting.signal.aborted) throw error;
      say(`Run ${runId} is still paused. Resume it once decided: ${drive.resumeCommand}`);
      return { result, paused: true };
    } finally {
      drive.interrupt.controller = undefined;
    }
    for (const [index, record] of decided.entries()) {
      const call = pending[index] as PendingCall;
      waitedOn.add(keyOf(call));
      say(`Decided: ${call.tool} (${call.member}) ${decisionLine(record)}`);
    }
    io.err(`Resuming run ${runId}…`);
    result = await resumeTeam(team, runId, options);
  }
}

async function printPending(
  pending: readonly PendingCall[],
  drive: DurableDrive,
  say: (text: string) => void,
) {
  const { stores, runId } = drive;
  const records = await Promise.all(
    pending.map((call) => stores.approvals.get(call.runId, call.toolCallId).catch(() => undefined)),
  );
  const count = pending.length;
  say('');
  say(
    `Run ${runId} is paused: ${count} call${count === 1 ? '' : 's'} wait${count === 1 ? 's' : ''} for a person's decision.`,
  );
  for (const [index, call] of pending.entries()) {
    const record = records[index];
    const facts = [`run ${call.runId}`, `call ${call.toolCallId}`];
    if (record) {
      facts.push(`risk ${record.risk}`);
      if (record.reason === 'possible_duplicate') facts.push('it may already have run');
      facts.push(
        effectiveStatus(record) === 'pending' ? `expires ${expiry(record)}` : `already ${record.status}`,
      );
    }
    const commands = decisionCommands(
      { runId: call.runId, toolCallId: call.toolCallId, args: record?.args ?? call.args },
      stores.approvalsFlags,
    );
    say(`  [${call.member}] ${call.tool} ${argsLine(record?.args ?? call.args, 300)}`);
    say(`      ${facts.join(' · ')}`);
    say(`      approve: ${commands.approve}`);
    say(`      deny:    ${commands.deny}`);
    say(`      edit:    ${commands.edit}`);
  }
  say('');
}
