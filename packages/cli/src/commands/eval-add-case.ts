import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addCaseToSuite, type Check, loadRecording, type Recording, recordingFromJournal } from '@baton/eval';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { DEFAULT_STATE_DIR, durableStores } from '../stores.js';
import { asUsage } from './eval.js';

export interface AddCaseFlags {
  /** The suite file the case is appended to. */
  suite: string;
  /** A recording file instead of the journal (or of `<dir>/recordings/<runId>.json`). */
  recording?: string;
  /** The state directory: its journal and its recordings (default .baton). */
  dir?: string;
  id?: string;
  name?: string;
  /** Extra checks: the output contains this text. */
  contains?: string[];
  /** Extra checks: the output matches this regular expression. */
  regex?: string[];
  json?: boolean;
}

/**
 * `baton eval add-case <runId>`: turns a recorded run into a regression case of a suite. The run comes
 * from `--recording <file>`, else `<dir>/recordings/<runId>.json` (written by `baton eval --record`),
 * else the run journal in `<dir>/journal` (`baton run --journal`). The recording is saved beside the
 * suite and the case replays its tool results.
 */
export function addCaseCommand(runId: string, flags: AddCaseFlags, io: Io): Promise<number> {
  return asUsage(addCase(runId, flags, io));
}

async function addCase(runId: string, flags: AddCaseFlags, io: Io): Promise<number> {
  const dir = flags.dir ?? DEFAULT_STATE_DIR;
  let recording: Recording;
  let from: string;
  const recorded = flags.recording ?? join(dir, 'recordings', `${runId}.json`);
  if (flags.recording || existsSync(recorded)) {
    if (!existsSync(recorded)) throw new CliError(`No recording file ${recorded}`, EXIT.USAGE);
    recording = loadRecording(recorded);
    from = recorded;
  } else {
    const stores = durableStores({ dir });
    recording = await recordingFromJournal(stores.journal, runId);
    from = `the journal in ${join(dir, 'journal')}`;
  }
  const checks: Check[] = [
    ...(flags.contains ?? []).map((text): Check => ({ kind: 'contains', text })),
    ...(flags.regex ?? []).map((pattern): Check => ({ kind: 'regex', pattern })),
  ];
  const added = addCaseToSuite(flags.suite, recording, {
    ...(flags.id ? { id: flags.id } : {}),
    ...(flags.name ? { name: flags.name } : {}),
    checks,
  });
  if (flags.json) {
    io.out(JSON.stringify({ case: added.case, recording: added.recordingPath, suite: flags.suite }, null, 2));
  } else {
    io.out(
      `Added case "${added.case.id}" to ${flags.suite} (${added.suite.cases.length} cases), from ${from}.`,
    );
    io.out(`Recording: ${added.recordingPath} (tool results replay; the model runs)`);
    io.out(
      `Checks: ${added.case.checks.map((check) => check.kind + ('tool' in check ? ` ${check.tool}` : '')).join(', ')}`,
    );
  }
  return EXIT.OK;
}
