import {
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  BatonError,
  effectiveStatus,
} from '@baton/core';
import { renderTable } from '@baton/teams';
import { ago, argsLine, clock, decisionCommands, decisionLine, expiry } from '../approval-text.js';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { type ApprovalStoreHandle, defaultDecider, openApprovalStore, type StoreFlags } from '../stores.js';

export const LIST_STATUSES = ['pending', 'approved', 'edited', 'denied', 'expired', 'all'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

export interface ApprovalsListFlags extends StoreFlags {
  status?: ListStatus;
  /** A run id: the calls of that run, or of every member run of that team run. */
  run?: string;
  json?: boolean;
}

export interface ApprovalsShowFlags extends StoreFlags {
  json?: boolean;
}

export interface ApprovalsDecideFlags extends StoreFlags {
  by?: string;
  reason?: string;
  /** `edit`: the new arguments, as JSON text. */
  args?: string;
  json?: boolean;
}

/**
 * `baton approvals list`: the calls waiting for a person (or, with `--status`, decided ones), oldest
 * first: run, call, tool, risk, why, arguments (cut short), age, expiry and status.
 */
export async function approvalsListCommand(flags: ApprovalsListFlags, io: Io): Promise<number> {
  return withStore(flags, async (handle) => {
    const status = flags.status ?? 'pending';
    const all = await handle.store.list(status === 'all' ? {} : { status: status as ApprovalStatus });
    const records = flags.run
      ? all.filter((record) => record.runId === flags.run || record.teamRunId === flags.run)
      : all;
    if (flags.json) {
      io.out(JSON.stringify(records, null, 2));
      return EXIT.OK;
    }
    const scope = `${status === 'all' ? '' : `${status} `}approvals${flags.run ? ` of run ${flags.run}` : ''}`;
    if (records.length === 0) {
      io.out(`No ${scope} in ${handle.describe}.`);
      return EXIT.OK;
    }
    io.out(`${capitalize(scope)} in ${handle.describe}:`);
    io.out('');
    io.out(
      renderTable(
        [
          { header: 'run' },
          { header: 'call' },
          { header: 'tool' },
          { header: 'risk' },
          { header: 'reason' },
          { header: 'args' },
          { header: 'age', align: 'right' },
          { header: 'expires' },
          { header: 'status' },
        ],
        records.map((record) => [
          record.runId,
          record.toolCallId,
          record.tool,
          record.risk,
          record.reason === 'possible_duplicate' ? 'may have run' : 'risk',
          argsLine(record.args, 60),
          ago(record.requestedAt),
          effectiveStatus(record) === 'pending' ? expiry(record) : '-',
          record.decidedBy ? `${record.status} by ${record.decidedBy}` : record.status,
        ]),
      ),
    );
    const first = records.find((record) => effectiveStatus(record) === 'pending');
    if (first) {
      const commands = decisionCommands(first, handle.approvalsFlags);
      io.out('');
      io.out(`Decide: ${commands.approve}`);
      io.out(`        (or deny … --reason <text>, edit … --args '<json>'; show … for the details)`);
    }
    return EXIT.OK;
  });
}

/** `baton approvals show <runId> <callId>`: one call in full — arguments, preview, decision. */
export async function approvalsShowCommand(
  runId: string,
  callId: string,
  flags: ApprovalsShowFlags,
  io: Io,
): Promise<number> {
  return withStore(flags, async (handle) => {
    const record = await find(handle, runId, callId);
    if (flags.json) {
      io.out(JSON.stringify(record, null, 2));
      return EXIT.OK;
    }
    const status = effectiveStatus(record);
    const lines = [
      `Run:        ${record.runId}${record.teamRunId ? ` (team run ${record.teamRunId})` : ''}`,
      `Call:       ${record.toolCallId}`,
      `Agent:      ${record.agent}`,
      `Tool:       ${record.tool} (risk ${record.risk})`,
      `Why:        ${record.reason === 'possible_duplicate' ? 'the call may already have run (its process stopped mid-call)' : `a ${record.risk} tool needs a person's decision`}`,
      `Requested:  ${clock(record.requestedAt)} (${ago(record.requestedAt)} ago)`,
      `Expires:    ${record.expiresAt === undefined ? 'never' : `${clock(record.expiresAt)} (${expiry(record)})`}`,
      `Status:     ${status === 'pending' ? 'pending' : decisionLine(record)}`,
      'Arguments:',
      indent(JSON.stringify(record.args, null, 2) ?? 'undefined'),
    ];
    if (record.preview !== undefined) {
      const preview =
        typeof record.preview === 'string' ? record.preview : JSON.stringify(record.preview, null, 2);
      lines.push('Preview:', indent(preview ?? 'undefined'));
    }
    if (status === 'pending') {
      const commands = decisionCommands(record, handle.approvalsFlags);
      lines.push(
        '',
        `Approve: ${commands.approve}`,
        `Deny:    ${commands.deny}`,
        `Edit:    ${commands.edit}`,
      );
    }
    io.out(lines.join('\n'));
    return EXIT.OK;
  });
}

export type DecisionVerb = 'approve' | 'deny' | 'edit';

/**
 * `baton approvals approve|deny|edit <runId> <callId>`: decides a pending call, exactly once. A call
 * decided already (here or anywhere else) is refused with who decided it and when; the run picks the
 * decision up when it resumes (a `baton run --journal` waiting for it resumes at once).
 */
export async function approvalsDecideCommand(
  verb: DecisionVerb,
  runId: string,
  callId: string,
  flags: ApprovalsDecideFlags,
  io: Io,
): Promise<number> {
  const decision = decisionOf(verb, flags);
  const by = flags.by?.trim() || defaultDecider();
  return withStore(flags, async (handle) => {
    let record: ApprovalRecord;
    try {
      record = await handle.store.decide(runId, callId, decision, by);
    } catch (error) {
      if (BatonError.is(error, 'APPROVAL_DECIDED')) {
        const current = await handle.store.get(runId, callId).catch(() => undefined);
        throw new CliError(
          `APPROVAL_DECIDED: call ${callId} of run ${runId} was already ${current ? decisionLine(current) : error.message}`,
          EXIT.NOT_COMPLETED,
          'A call is decided once; this decision was not recorded',
        );
      }
      throw error;
    }
    if (flags.json) {
      io.out(JSON.stringify(record, null, 2));
      return EXIT.OK;
    }
    const what = `${record.tool} (call ${record.toolCallId} of run ${record.runId})`;
    const verbPast = verb === 'approve' ? 'Approved' : verb === 'deny' ? 'Denied' : 'Edited';
    const detail =
      decision.decision === 'edit'
        ? `: it will run with ${argsLine(decision.args, 200)}`
        : decision.decision === 'deny' && decision.reason
          ? `: ${decision.reason}`
          : '';
    io.out(`${verbPast} ${what} as ${by}${detail}.`);
    io.out(
      'The run continues when it is resumed (a `baton run --journal` waiting for it goes on by itself).',
    );
    return EXIT.OK;
  });
}

function decisionOf(verb: DecisionVerb, flags: ApprovalsDecideFlags): ApprovalDecision {
  if (verb === 'approve') return { decision: 'approve' };
  if (verb === 'deny')
    return flags.reason ? { decision: 'deny', reason: flags.reason } : { decision: 'deny' };
  if (flags.args === undefined) {
    throw new CliError("edit needs the new arguments: --args '<json>'", EXIT.USAGE);
  }
  let args: unknown;
  try {
    args = JSON.parse(flags.args);
  } catch (error) {
    throw new CliError(`--args is not valid JSON: ${(error as Error).message}`, EXIT.USAGE);
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new CliError(
      '--args must be a JSON object (the tool\'s arguments), e.g. \'{"ids":["a"]}\'',
      EXIT.USAGE,
    );
  }
  return { decision: 'edit', args };
}

async function find(handle: ApprovalStoreHandle, runId: string, callId: string): Promise<ApprovalRecord> {
  const record = await handle.store.get(runId, callId);
  if (record) return record;
  throw new CliError(
    `No approval for call ${callId} of run ${runId} in ${handle.describe}`,
    EXIT.USAGE,
    'List the calls waiting for a decision: baton approvals list' +
      (handle.approvalsFlags.length > 0 ? ` ${handle.approvalsFlags.join(' ')}` : ''),
  );
}

async function withStore(flags: StoreFlags, work: (handle: ApprovalStoreHandle) => Promise<number>) {
  const handle = await openApprovalStore(flags);
  try {
    return await work(handle);
  } catch (error) {
    if (BatonError.is(error, 'APPROVAL_UNKNOWN')) {
      throw new CliError(
        `${error.message} in ${handle.describe}`,
        EXIT.USAGE,
        'List the calls waiting for a decision: baton approvals list' +
          (handle.approvalsFlags.length > 0 ? ` ${handle.approvalsFlags.join(' ')}` : ''),
      );
    }
    throw error;
  } finally {
    await handle.close().catch(() => {});
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
