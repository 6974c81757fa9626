import type { Agent } from '../agent.js';
import { bundleOf } from '../bundle/bundle.js';
import { BatonError } from '../errors.js';
import { agentConfigHash } from '../journal/config-hash.js';
import { type JournalBatch, JournalSession } from '../journal/session.js';
import type {
  JournalOpenOptions,
  JournalRecord,
  JournalRecordOf,
  RecordedResponse,
  RunJournal,
} from '../journal/types.js';
import type { ModelResponse } from '../model/types.js';
import { runResultSchema } from './schemas.js';
import type { RunOptions, RunResult } from './types.js';

/** State ids resumed in this process, for RunStates resumed without a journal (single use in-process). */
const consumedHere = new Set<string>();

export interface OpenedJournal {
  session: JournalSession;
  /** The run's input: the recorded one when the run is resumed from its journal. */
  input: unknown;
  /** The run already finished: its recorded result, returned as is (nothing runs again). */
  finished?: RunResult;
}

/**
 * Opens the run's journal: a new run records how it started; a run with records is resumed from them
 * (after checking it was started by the same configuration); a finished one returns its recorded result.
 */
export async function openRunJournal(
  agent: Agent,
  runId: string,
  input: unknown,
  options: RunOptions,
  traceId: string,
  open?: JournalOpenOptions,
): Promise<OpenedJournal> {
  const journal = options.journal;
  if (!journal) throw new BatonError('INTERNAL', 'openRunJournal without a journal');
  const fresh = options.journalBatch?.takeFresh(runId) === true;
  const session = await JournalSession.open(journal, runId, fresh ? { ...open, fresh } : open);
  if (session.finished)
    return { session, input: session.started?.input, finished: recordedResult(session.finished, session) };
  const hash = agentConfigHash(agent);
  const started = session.started;
  if (started) {
    if (started.configHash !== hash && options.migrate !== true) {
      throw new BatonError(
        'JOURNAL_CONFIG_MISMATCH',
        `Run ${runId} was journaled by configuration ${started.configHash.slice(0, 12)}, not ${hash.slice(0, 12)} (agent "${agent.name}")`,
        {
          details: { runId, journaled: started.configHash, current: hash },
          hint: 'Resume with the configuration that started the run, or pass migrate: true to replay it anyway',
        },
      );
    }
    return { session, input: started.input };
  }
  const record: JournalRecordOf<'run.started'> = {
    type: 'run.started',
    at: Date.now(),
    kind: 'agent',
    name: agent.name,
    configHash: hash,
    bundle: bundleOf(agent).hash,
    input,
    traceId,
  };
  if (options.parentRunId !== undefined) record.parentRunId = options.parentRunId;
  session.append(record);
  return { session, input };
}

/**
 * A paused RunState may be resumed once: with a journal the first resume records `run.resumed` (and a
 * second one, anywhere, finds it); without one, this process remembers it.
 */
export async function consumeState(stateId: string, session: JournalSession | undefined): Promise<void> {
  if (session) {
    if (session.consumed(stateId)) throw consumed(stateId);
    // Durable before anything of the state runs: a second resume anywhere finds it.
    await session.appendNow({ type: 'run.resumed', at: Date.now(), stateId });
    return;
  }
  if (consumedHere.has(stateId)) throw consumed(stateId);
  consumedHere.add(stateId);
}

/**
 * Refuses a RunState that was resumed already, by reading the journal — which, unlike opening it, fences
 * no one — and returns the open that takes the run over only if nobody did in between. A second resume
 * must be refused before it takes the run over: otherwise it would fence the process that resumed the
 * state first, and neither would finish the run.
 */
export async function refuseConsumedState(
  journal: RunJournal,
  runId: string,
  stateId: string,
): Promise<JournalOpenOptions> {
  const entries = await journal.read(runId);
  if (entries.some(({ record }) => record.type === 'run.resumed' && record.stateId === stateId)) {
    throw consumed(stateId);
  }
  return { ifLastSeq: entries.at(-1)?.seq ?? 0 };
}

function consumed(stateId: string): BatonError {
  return new BatonError('STATE_CONSUMED', `This paused state (${stateId}) was already resumed`, {
    details: { stateId },
    hint: 'A state is resumed once; read the run’s result instead of resuming it again',
  });
}

/** The run ends in the journal: finished with its result, or paused with what it waits for. */
export async function recordEnd(
  session: JournalSession,
  result: RunResult,
  elapsedMs: number,
  batch: JournalBatch | undefined,
): Promise<void> {
  const write = async (record: JournalRecord) => {
    session.append(record);
    if (batch) batch.add(session);
    else await session.flush();
  };
  if (result.status === 'awaiting_approval') {
    const pending = (result.state?.pending?.awaiting ?? []).map((toolCallId) => ({
      runId: result.runId,
      toolCallId,
      tool:
        result.state?.pending?.toolCalls.find((call) => toolCallId.startsWith(call.id))?.name ?? 'unknown',
    }));
    const paused: JournalRecordOf<'run.paused'> = {
      type: 'run.paused',
      at: Date.now(),
      elapsedMs,
      status: 'awaiting_approval',
      pending,
    };
    if (result.state?.id) paused.stateId = result.state.id;
    await write(paused);
    return;
  }
  // A run stopped because its process is shutting down is not over: its redelivery resumes it.
  if (result.error?.details?.resumable === true) {
    if (batch) batch.add(session);
    else await session.flush();
    return;
  }
  // The tool results are in the journal already (one `tool.outcome` each): kept once, not twice.
  await write({
    type: 'run.finished',
    at: Date.now(),
    elapsedMs,
    status: result.status,
    result: withoutToolResults(result),
  });
}

export function toResponse(recorded: RecordedResponse): ModelResponse {
  const response: ModelResponse = {
    text: recorded.text,
    toolCalls: recorded.toolCalls,
    model: recorded.model,
    provider: recorded.provider ?? 'journal',
    finishReason: recorded.finishReason as ModelResponse['finishReason'],
  };
  if (recorded.finishReasonRaw !== undefined) response.finishReasonRaw = recorded.finishReasonRaw;
  if (recorded.usage) response.usage = recorded.usage;
  if (recorded.costUsd !== undefined) response.costUsd = recorded.costUsd;
  if (recorded.reasoning) response.reasoningParts = recorded.reasoning;
  return response;
}

export function toRecorded(response: ModelResponse): RecordedResponse {
  const recorded: RecordedResponse = {
    text: response.text,
    toolCalls: response.toolCalls,
    model: response.model,
    provider: response.provider,
    finishReason: response.finishReason,
  };
  if (response.finishReasonRaw !== undefined) recorded.finishReasonRaw = response.finishReasonRaw;
  if (response.usage) recorded.usage = response.usage;
  if (response.costUsd !== undefined) recorded.costUsd = response.costUsd;
  if (response.reasoningParts?.length) recorded.reasoning = response.reasoningParts;
  return recorded;
}

function recordedResult(finished: JournalRecordOf<'run.finished'>, session: JournalSession): RunResult {
  const parsed = runResultSchema.safeParse(finished.result);
  if (!parsed.success) {
    throw new BatonError('JOURNAL_INVALID', 'The journal’s recorded result cannot be read', {
      details: { issues: parsed.error.issues.slice(0, 5).map((issue) => issue.message) },
    });
  }
  const result = finished.result as RunResult;
  return { ...result, partial: { ...result.partial, toolResults: session.toolRecords() } };
}

/**
 * A result as a journal keeps it: without its tool results, which the journal holds already as
 * `tool.outcome` records (they are most of a result's size); `recordedResult` puts them back.
 */
export function withoutToolResults<R extends RunResult>(result: R): R {
  if (result.partial.toolResults.length === 0) return result;
  return { ...result, partial: { ...result.partial, toolResults: [] } };
}
