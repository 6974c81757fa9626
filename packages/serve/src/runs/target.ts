import {
  type AgentLike,
  type ApprovalStore,
  type BatonErrorJSON,
  type EventHub,
  isAgent,
  type RunEvent,
  type RunJournal,
  type RunResult,
  run,
} from '@baton/core';
import { resumeTeam, type TeamEvent, type TeamResult } from '@baton/supervisor';
import { type Catalogue, findAgent, findTeam } from '../catalogue.js';
import type { GatewayRunStatus } from '../schemas.js';
import type { RunRecord } from './record.js';

/** Every event a run can send: its members' run events and the team's own. */
export type GatewayEvent = RunEvent | TeamEvent;

/** What one pass of a run (a start or a resume) came to, in the gateway's terms. */
export interface Outcome {
  status: GatewayRunStatus;
  output: unknown;
  /** The whole TeamResult or RunResult, as stored and shown (a paused agent's RunState left out). */
  result: unknown;
  error?: BatonErrorJSON;
  pending: { member: string; runId: string; toolCallId: string; tool: string; args: unknown }[];
  traceId: string;
}

export interface PassOptions {
  signal: AbortSignal;
  events: EventHub<GatewayEvent> | undefined;
  /** Undefined when the run cannot pause and nothing needs to resume it (see `Target.mayPause`). */
  journal: RunJournal | undefined;
  approvals: ApprovalStore;
  approvalTimeoutMs: number | undefined;
}

/** A team or an agent of the catalogue, ready to start or resume one run. */
export interface Target {
  /**
   * False when the run can never wait for a person (an agent with no tools): in one process it then
   * needs no journal, which is most of what a trivial run costs.
   */
  readonly mayPause: boolean;
  pass(mode: 'start' | 'resume', input: unknown, options: PassOptions): Promise<Outcome>;
}

export interface TargetSettings {
  catalogue: Catalogue;
  /** The team timeout (a real timer that cancels it). */
  timeoutMs: number;
  /** Remote members (workers on NATS) instead of local ones, when the gateway is set up so. */
  members: ((name: string) => AgentLike) | undefined;
}

/**
 * Builds what runs a record. A journaled run resumes from its journal whichever way it is called, so a
 * redelivered job and a run resumed after approvals both continue where the records end.
 */
export function targetOf(record: RunRecord, settings: TargetSettings): Target {
  const common = (options: PassOptions) => ({
    runId: record.id,
    signal: options.signal,
    ...(options.journal ? { journal: options.journal } : {}),
    approvals: options.approvals,
    ...(options.events ? { events: options.events } : {}),
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    ...(record.userId !== undefined ? { userId: record.userId } : {}),
    ...(record.sessionId !== undefined ? { sessionId: record.sessionId } : {}),
  });

  if (record.kind === 'team') {
    const entry = findTeam(settings.catalogue, record.name);
    const team = entry.create({
      timeoutMs: settings.timeoutMs,
      ...(settings.members ? { members: settings.members } : {}),
    });
    return {
      mayPause: true,
      async pass(mode, input, options) {
        const journal = options.journal;
        const result: TeamResult =
          mode === 'resume' && journal
            ? await resumeTeam(team, record.id, { ...common(options), journal })
            : await team.run(input, common(options));
        return {
          status: result.status,
          output: result.output,
          result,
          pending: result.pending ?? [],
          traceId: result.traceId,
        };
      },
    };
  }

  const entry = findAgent(settings.catalogue, record.name);
  const agent = settings.members ? settings.members(entry.name) : entry.create();
  return {
    mayPause: !(isAgent(agent) && agent.tools.size === 0),
    async pass(_mode, input, options) {
      // A journaled agent run called again with its id resumes from its records (decisions included).
      const result: RunResult = await run(agent, input, { ...common(options), tenantId: record.tenant });
      const { state: _state, ...shown } = result;
      const pending =
        result.status === 'awaiting_approval'
          ? (await options.approvals.list({ runId: record.id, status: 'pending' })).map((call) => ({
              member: call.agent,
              runId: call.runId,
              toolCallId: call.toolCallId,
              tool: call.tool,
              args: call.args,
            }))
          : [];
      return {
        status: result.status,
        output: result.output,
        result: shown,
        ...(result.error ? { error: result.error } : {}),
        pending,
        traceId: result.traceId,
      };
    },
  };
}
