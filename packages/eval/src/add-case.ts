import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BatonError, type JournalEntry, type RunJournal } from '@baton/core';
import { z } from 'zod';
import { RECORDING_VERSION, type Recording, saveRecording } from './recording.js';
import { appendCase, type Check, type EvalCase, loadSuite, type Suite } from './suite.js';

/**
 * Rebuilds a recording from a run journal (files in `.baton/journal`, JetStream, memory): the team's
 * handoffs lead to each member's run, whose model steps and tool outcomes become the member's tape.
 * Journals keep responses but not the requests, so a full replay of it checks the order and number of
 * model calls, not what each one asked.
 */
export async function recordingFromJournal(journal: RunJournal, runId: string): Promise<Recording> {
  const entries = await journal.read(runId);
  const started = entries.find((entry) => entry.record.type === 'run.started')?.record;
  if (started?.type !== 'run.started') {
    throw new BatonError('RUN_UNKNOWN', `No journaled run "${runId}"`, {
      hint: 'Journal a run with `baton run <team> --journal` (or pass a recording file with --recording).',
    });
  }
  const members: Recording['members'] = {};
  const addTape = (member: string, memberEntries: readonly JournalEntry[]) => {
    const tape = members[member] ?? { model: [], tools: [] };
    members[member] = tape;
    for (const { record } of memberEntries) {
      if (record.type === 'model.step') tape.model.push({ response: record.response });
      if (record.type === 'tool.outcome') {
        tape.tools.push({
          tool: record.tool,
          args: record.args,
          ok: record.ok,
          ...(record.data !== undefined ? { data: record.data } : {}),
          ...(record.error !== undefined ? { error: record.error } : {}),
        });
      }
    }
  };
  if (started.kind === 'agent') {
    addTape(started.name, entries);
  } else {
    for (const { record } of entries) {
      if (record.type === 'handoff.sent') addTape(record.member, await journal.read(record.memberRunId));
    }
  }
  const finished = entries.findLast((entry) => entry.record.type === 'run.finished')?.record;
  const result =
    finished?.type === 'run.finished'
      ? {
          status: finished.status,
          ...(outputOf(finished.result) !== undefined ? { output: outputOf(finished.result) } : {}),
        }
      : undefined;
  return {
    v: RECORDING_VERSION,
    kind: 'baton.recording',
    id: runId,
    source: 'journal',
    ...(started.kind === 'team' ? { team: started.name } : { agent: started.name }),
    input: started.input,
    recordedAt: new Date(started.at).toISOString(),
    members,
    ...(result ? { result } : {}),
  };
}

function outputOf(result: unknown): unknown {
  const parsed = z.object({ output: z.unknown() }).safeParse(result);
  return parsed.success ? parsed.data.output : undefined;
}

export interface CaseFromRecordingOptions {
  /** The case id; default the recording's id. */
  id?: string;
  name?: string;
  /** Checks to add to the generated ones. */
  checks?: Check[];
}

/**
 * A regression case from a recorded run: the same input, the recorded tool results replayed (the model
 * runs, so a fix shows), and checks generated from what a good run of it must do — complete, call the
 * tools the recording called successfully, and cite its sources when the output is a report.
 */
export function caseFromRecording(
  recording: Recording,
  recordingPath: string,
  options: CaseFromRecordingOptions = {},
): EvalCase {
  const checks: Check[] = [{ kind: 'status', equals: 'completed' }];
  const seen = new Set<string>();
  for (const [member, tape] of Object.entries(recording.members)) {
    for (const call of tape.tools) {
      const key = `${member}.${call.tool}`;
      if (!call.ok || seen.has(key)) continue;
      seen.add(key);
      checks.push({ kind: 'tool-called', agent: member, tool: call.tool });
    }
  }
  const output = recording.result?.output;
  if (typeof output === 'object' && output !== null && 'draft' in output && 'sources' in output) {
    checks.push({ kind: 'citations', min: 1, everySection: true });
  }
  checks.push(...(options.checks ?? []));
  return {
    id: safeId(options.id ?? recording.id),
    name:
      options.name ??
      `Regression from run ${recording.id}${recording.result ? ` (${recording.result.status})` : ''}`,
    input: recording.input,
    checks,
    replay: { recording: recordingPath, mode: 'tools' },
    tags: ['regression'],
  };
}

/**
 * Writes the recording beside the suite (`recordings/<case id>.json`) and appends the regression case
 * to the suite file. Returns the case and where the recording went.
 */
export function addCaseToSuite(
  suitePath: string,
  recording: Recording,
  options: CaseFromRecordingOptions = {},
): { case: EvalCase; recordingPath: string; suite: Suite } {
  const suite = loadSuite(suitePath);
  const id = safeId(options.id ?? recording.id);
  if (suite.cases.some((c) => c.id === id)) {
    throw new BatonError('EVAL_SUITE_INVALID', `${suitePath} already has a case "${id}"`, {
      hint: 'Give the new case another id (--id).',
    });
  }
  if (
    suite.target.team !== undefined &&
    recording.team !== undefined &&
    suite.target.team !== recording.team
  ) {
    throw new BatonError(
      'EVAL_SUITE_INVALID',
      `The run is of team "${recording.team}", the suite runs "${suite.target.team}"`,
      { hint: 'Add it to a suite of that team.' },
    );
  }
  const directory = join(dirname(suitePath), 'recordings');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${id}.json`);
  saveRecording(file, recording);
  const evalCase = caseFromRecording(recording, relative(dirname(suitePath), file), { ...options, id });
  return { case: evalCase, recordingPath: file, suite: appendCase(suitePath, evalCase) };
}

function safeId(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned.slice(0, 128) || 'case';
}
