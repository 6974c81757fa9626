/**
 * An orchestrator process of `durable.teamResume`. It connects to NATS, prints `READY`, then takes team
 * runs one at a time from its own subject (`chaos.durable.go.<id>`, a JSON OrchestratorJob): attempt 1
 * starts the run, a later attempt resumes it from its journal (`resumeTeam`). For each job it prints
 * `STARTED <runId> <attempt>` just before the team starts — the suite's kill clock starts there — and
 * `DONE <runId> <attempt> <json>` with the result. Started ahead of need, so a resume does not wait for
 * Node to boot. Usage: node durable-orchestrator.js <json OrchestratorConfig>
 */
import { NatsBus, natsJournal } from '@baton/bus';
import { BatonError } from '@baton/core';
import { resumeTeam, type TeamResult } from '@baton/supervisor';
import { durableTeam, jobSubject } from './durable-team.js';

export interface OrchestratorConfig {
  url: string;
  namespace: string;
  /** This process's name: its jobs arrive on `chaos.durable.go.<id>`. */
  id: string;
  dir: string;
  modelDelayMs: number;
  toolDelayMs: number;
}

export interface OrchestratorJob {
  runId: string;
  /** 1 for the first start; a later attempt resumes the run from its journal. */
  attempt: number;
}

export interface OrchestratorDone {
  status: string;
  output: unknown;
  /** Who the team handed work to, in order. */
  to: string[];
  /** `run`, `resume`, or `run-after-unknown` (killed before the journal held anything). */
  how: string;
  ms: number;
  /** What the team's ledger says it spent (budget.used.tokens). */
  ledgerTokens: number;
  error?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as OrchestratorConfig;
const bus = await NatsBus.connect({ servers: config.url, name: `chaos-orchestrator-${config.id}` });
const journal = natsJournal(bus, { namespace: config.namespace });
// Bind the journal stream now, so a job measures the team, not the first lookup.
await journal.runs({ limit: 1 });

async function runJob(job: OrchestratorJob): Promise<OrchestratorDone> {
  const team = durableTeam(config);
  process.stdout.write(`STARTED ${job.runId} ${job.attempt}\n`);
  const started = performance.now();
  let how = job.attempt === 1 ? 'run' : 'resume';
  let result: TeamResult<string>;
  if (job.attempt === 1) {
    result = await team.run('send everything', { journal, runId: job.runId });
  } else {
    try {
      result = await resumeTeam(team, job.runId, { journal });
    } catch (error) {
      // Killed before the team's first record landed: nothing ran, so the run starts afresh.
      if (!BatonError.is(error, 'RUN_UNKNOWN')) throw error;
      how = 'run-after-unknown';
      result = await team.run('send everything', { journal, runId: job.runId });
    }
  }
  const done: OrchestratorDone = {
    status: result.status,
    output: result.output,
    to: result.transcript.map((record) => record.to),
    how,
    ms: Math.round(performance.now() - started),
    ledgerTokens: result.budget.used.tokens,
  };
  if (result.status !== 'completed') done.error = `${result.stopReason.kind}: ${result.stopReason.message}`;
  return done;
}

const jobs = bus.connection.subscribe(jobSubject(config.id));
await bus.connection.flush();
process.stdout.write('READY\n');
for await (const message of jobs) {
  const job = JSON.parse(message.string()) as OrchestratorJob;
  try {
    const done = await runJob(job);
    process.stdout.write(`DONE ${job.runId} ${job.attempt} ${JSON.stringify(done)}\n`);
  } catch (error) {
    const text = BatonError.is(error) ? `${error.code}: ${error.message}` : String(error);
    process.stdout.write(`FAILED ${job.runId} ${job.attempt} ${JSON.stringify(text)}\n`);
  }
}
