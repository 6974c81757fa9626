import type { JournalEntry } from '@baton/core';
import type { SpanRecord } from '@baton/telemetry';
import { redact } from './redact.js';
import type { HandoffRow } from './wire.js';

/** The member runs of a team run (run id → member name), from its journal, else from its result. */
export function memberRunIds(
  entries: readonly JournalEntry[],
  result: Record<string, unknown> | undefined,
  runId: string,
): Map<string, string> {
  const ids = new Map<string, string>();
  for (const { record } of entries) {
    if (record.type === 'handoff.sent') ids.set(record.memberRunId, record.member);
  }
  for (const step of transcriptOf(result)) {
    if (typeof step.runId === 'string' && typeof step.to === 'string') ids.set(step.runId, step.to);
  }
  // An agent run on its own is its own member.
  if (ids.size === 0 && entries[0]?.record.type === 'run.started' && entries[0].record.kind === 'agent') {
    ids.set(runId, entries[0].record.name);
  }
  return ids;
}

function transcriptOf(result: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const transcript = result?.transcript;
  return Array.isArray(transcript)
    ? transcript.filter((step): step is Record<string, unknown> => step !== null && typeof step === 'object')
    : [];
}

export function handoffs(
  entries: readonly JournalEntry[],
  result: Record<string, unknown> | undefined,
  spans: readonly SpanRecord[],
): HandoffRow[] {
  const transcript = transcriptOf(result);
  if (transcript.length > 0) {
    return transcript.map((step) => {
      const row: HandoffRow = { from: String(step.from ?? '?'), to: String(step.to ?? '?') };
      if (typeof step.round === 'number') row.round = step.round;
      if (typeof step.contract === 'string') row.contract = step.contract;
      if (typeof step.status === 'string') row.status = step.status;
      if (typeof step.durationMs === 'number') row.durationMs = step.durationMs;
      if (typeof step.runId === 'string') row.runId = step.runId;
      if ('input' in step) row.input = redact(step.input);
      if ('output' in step) row.output = redact(step.output);
      return row;
    });
  }
  // A run still going (or paused): the handoffs its journal recorded so far.
  const sent = entries.flatMap(({ record }) => (record.type === 'handoff.sent' ? [record] : []));
  if (sent.length > 0) {
    const done = new Map(
      entries.flatMap(({ record }) =>
        record.type === 'handoff.done' ? [[record.key, record.result] as const] : [],
      ),
    );
    return sent.map((record) => {
      const row: HandoffRow = {
        from: record.from,
        to: record.member,
        runId: record.memberRunId,
        input: redact(record.input),
      };
      const outcome = done.get(record.key) as Record<string, unknown> | undefined;
      row.status = outcome ? String(outcome.status ?? 'done') : 'running';
      if (outcome && 'output' in outcome) row.output = redact(outcome.output);
      return row;
    });
  }
  // No journal: the handoff spans (no payloads unless content capture put them on the span).
  return spans
    .filter((span) => span.name.startsWith('handoff'))
    .map((span) => {
      const row: HandoffRow = {
        from: String(span.attributes['baton.handoff.from'] ?? '?'),
        to: String(span.attributes['messaging.destination.name'] ?? span.name.replace(/^handoff\s*/, '')),
        durationMs: span.durationMs,
        status: span.status.code === 2 ? 'failed' : 'completed',
      };
      const contract = span.attributes['baton.handoff.contract'];
      if (typeof contract === 'string') row.contract = contract;
      return row;
    });
}
