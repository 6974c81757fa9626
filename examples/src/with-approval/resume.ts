/**
 * Resumes a journaled run of the operations team in this process — what any process can do, on any
 * machine that sees the journal and the approvals. Prints one JSON line with what happened.
 *
 *   node examples/dist/with-approval/resume.js <state-dir> <runId>
 *
 * `<state-dir>` holds `journal/`, `approvals/` and the side channel `effects.log` (see main.ts).
 */
import { join } from 'node:path';
import { BatonError, EventHub, fileApprovals, fileJournal } from '@baton/core';
import { resumeTeam } from '@baton/supervisor';
import { printTeamProgress, type TeamRunEvent } from '@baton/teams';
import { isMain } from '../support/main.js';
import { operationsTeam } from './team.js';

/** What the resume script prints (one JSON line on stdout). */
export interface ResumeReport {
  pid: number;
  status: string;
  output: unknown;
  stopReason: string;
  /** The run had finished before this resume: the result is its recorded one and nothing ran. */
  finishedBefore: boolean;
}

export async function resumeOperations(dir: string, runId: string): Promise<ResumeReport> {
  const journal = fileJournal({ dir: join(dir, 'journal') });
  const approvals = fileApprovals({ dir: join(dir, 'approvals') });
  const finishedBefore = (await journal.read(runId)).some((entry) => entry.record.type === 'run.finished');
  const events = new EventHub<TeamRunEvent>();
  printTeamProgress(events, { write: (line) => process.stderr.write(`${line}\n`) });
  // The same team definition as the process that started the run (the journal checks its hash).
  const team = operationsTeam({ effectsFile: join(dir, 'effects.log') });
  const result = await resumeTeam(team, runId, { journal, approvals, events });
  return {
    pid: process.pid,
    status: result.status,
    output: result.output,
    stopReason: result.stopReason.message,
    finishedBefore,
  };
}

if (isMain(import.meta.url)) {
  const [dir, runId] = process.argv.slice(2);
  if (!dir || !runId) {
    process.stderr.write('usage: resume.js <state-dir> <runId>\n');
    process.exit(2);
  }
  resumeOperations(dir, runId).then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      process.exitCode = report.status === 'completed' ? 0 : 1;
    },
    (error: unknown) => {
      const failure = BatonError.wrap(error);
      process.stderr.write(`resume failed: ${failure.code}: ${failure.message}\n`);
      process.exitCode = 1;
    },
  );
}
