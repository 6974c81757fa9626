/**
 * The durable scenarios of the reliability suite (issue 11).
 *
 * `durable.teamResume`: 100 journaled team runs (a supervisor over three local workers whose tool has a
 * real side effect and honours its idempotency key, see durable-team.ts), each in an orchestrator
 * process on a JetStream nats-server with `natsJournal`. In many runs the orchestrator is SIGKILLed at a
 * random moment — again on some resumes — and the team is resumed in a new process until it completes.
 * Every run must complete, and no effect may be performed twice for one key.
 *
 * `durable.approvals`: 200 pending approvals in `natsApprovals` and 200 in `fileApprovals`, each decided
 * by 10 deciders at the same moment from 10 separate connections (store instances) in 2 processes.
 * Exactly one decider may win each, and the stored record must be the winner's decision.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, natsApprovals, natsJournal } from '@baton/bus';
import { startNatsServer } from '@baton/bus/testing';
import { type ApprovalDecision, type ApprovalStore, fileApprovals, type RunJournal } from '@baton/core';
import { approvalIds, type DecideAttempt, type DeciderConfig, decisionOf } from './durable-approvals.js';
import type { OrchestratorConfig, OrchestratorDone } from './durable-orchestrator.js';
import {
  EFFECTS_PER_RUN,
  FINAL_ANSWER,
  jobSubject,
  LEDGER_TOKENS_PER_RUN,
  readSideChannel,
  WORKERS,
} from './durable-team.js';
import { type ChaosProcess, startModule } from './processes.js';
import { type ChaosScenario, percentile, scaled } from './scenario.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small deterministic generator, so two runs of the suite make the same choices. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * The first stdout line matching `pattern`; rejects once the process has closed without one, or after
 * `timeoutMs`. Unlike `waitFor`, its timer ends with the process, so a killed orchestrator's wait does not
 * hold the suite open.
 */
function lineOf(proc: ChaosProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = proc.child.stdout;
    const finish = () => {
      clearTimeout(timer);
      stdout?.off('data', onData);
      proc.child.off('close', onClose);
    };
    const found = () => proc.lines.find((line) => pattern.test(line));
    // startModule's own listener runs first, so `lines` already holds what this chunk completed.
    const onData = () => {
      const line = found();
      if (line !== undefined) {
        finish();
        resolve(line);
      }
    };
    const onClose = () => {
      finish();
      const line = found();
      if (line !== undefined) resolve(line);
      else
        reject(
          new Error(`the process ended (${proc.child.signalCode ?? proc.child.exitCode}) before ${pattern}`),
        );
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    stdout?.on('data', onData);
    proc.child.once('close', onClose);
    const ended = proc.child.exitCode !== null || proc.child.signalCode !== null;
    if (ended && stdout?.closed !== false) onClose();
    else onData();
  });
}

// ---------------------------------------------------------------------------------------------------
// durable.teamResume

const TEAM_NAMESPACE = 'chaos_durable';
/** Team runs at once, each lane in its own orchestrator process. */
const LANES = 4;
/** Booted orchestrators each lane keeps in reserve, so a resume does not wait for Node to start. */
const SPARES = 2;
/** Chance that an attempt is killed: the first one, then each resume (at most MAX_KILLS per run). */
const KILL_FIRST = 0.75;
const KILL_RESUME = 0.4;
const MAX_KILLS = 3;
/** A crashed orchestrator (not a kill) is restarted; past this many attempts the run is given up. */
const MAX_ATTEMPTS = 10;
const MODEL_DELAY_MS = 10;
const TOOL_DELAY_MS = 60;

interface RunOutcome {
  runId: string;
  completed: boolean;
  kills: number;
  attempts: number;
  /** Orchestrators that exited without a result and without being killed. */
  crashes: string[];
  /** From the first job sent to the result (kills and resumes in standby processes included). */
  wallMs: number;
  /** STARTED → DONE of the process that finished (a resume, when the run was killed). */
  finalMs: number;
  how: string;
  done?: OrchestratorDone;
}

export const teamResume: ChaosScenario = {
  key: 'durable.teamResume',
  description:
    '100 journaled team runs on NATS, orchestrators SIGKILLed at random moments and resumed in new processes: all complete, no effect twice',
  async run(options) {
    const runs = scaled(options, 100, 10);
    const server = await startNatsServer({ jetstream: true });
    const dir = mkdtempSync(join(tmpdir(), 'baton-durable-'));
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-durable-suite' });
    const journal = natsJournal(bus, { namespace: TEAM_NAMESPACE });
    const live = new Set<ChaosProcess>();
    try {
      // The journal stream exists before orchestrators race to create it.
      await journal.runs({ limit: 1 });
      const next = random(11);
      /** STARTED → DONE of attempts nobody killed: where a kill at a random moment must land. */
      const undisturbedMs: number[] = [];
      const typicalMs = () => (undisturbedMs.length < 3 ? 500 : percentile(undisturbedMs, 50));

      interface Orchestrator {
        id: string;
        proc: ChaosProcess;
      }
      /** Each lane runs its jobs on `current` and keeps booted `spares` to resume in after a kill. */
      interface Lane {
        current: Promise<Orchestrator>;
        spares: Promise<Orchestrator>[];
      }
      let serial = 0;
      const boot = (): Promise<Orchestrator> => {
        const id = `o${++serial}`;
        const config: OrchestratorConfig = {
          url: server.url,
          namespace: TEAM_NAMESPACE,
          id,
          dir,
          modelDelayMs: MODEL_DELAY_MS,
          toolDelayMs: TOOL_DELAY_MS,
        };
        const proc = startModule('durable-orchestrator.js', [JSON.stringify(config)]);
        live.add(proc);
        const ready = lineOf(proc, /^READY$/, 60_000).then(() => ({ id, proc }));
        ready.catch(() => undefined);
        return ready;
      };
      const replace = (lane: Lane) => {
        lane.current = lane.spares.shift() ?? boot();
        lane.spares.push(boot());
      };
      const isDead = (proc: ChaosProcess) => proc.child.exitCode !== null || proc.child.signalCode !== null;

      const runOne = async (index: number, lane: Lane): Promise<RunOutcome> => {
        const runId = `durable-${index}`;
        const outcome: RunOutcome = {
          runId,
          completed: false,
          kills: 0,
          attempts: 0,
          crashes: [],
          wallMs: 0,
          finalMs: 0,
          how: '',
        };
        const began = performance.now();
        while (outcome.attempts < MAX_ATTEMPTS && !outcome.done) {
          outcome.attempts++;
          let orchestrator: Orchestrator;
          try {
            orchestrator = await lane.current;
          } catch (error) {
            outcome.crashes.push(`an orchestrator did not start: ${String(error).slice(0, 600)}`);
            replace(lane);
            continue;
          }
          const { id, proc } = orchestrator;
          const tag = `${runId} ${outcome.attempts}`;
          const startedLine = lineOf(proc, new RegExp(`^STARTED ${tag}$`), 30_000);
          const endLine = lineOf(proc, new RegExp(`^(DONE|FAILED) ${tag} `), 120_000);
          startedLine.catch(() => undefined);
          endLine.catch(() => undefined);
          const ended = () => proc.lines.some((line) => line.startsWith(`DONE ${tag} `));
          bus.connection.publish(jobSubject(id), JSON.stringify({ runId, attempt: outcome.attempts }));
          try {
            await startedLine;
            const startedAt = performance.now();
            const chance = outcome.attempts === 1 ? KILL_FIRST : KILL_RESUME;
            const kill = outcome.kills < MAX_KILLS && next() < chance;
            const delay = next() * typicalMs();
            if (kill) {
              const first = await Promise.race([sleep(delay).then(() => 'timer'), endLine.then(() => 'end')]);
              if (first === 'timer' && !ended()) {
                await proc.kill();
                if (!ended()) {
                  outcome.kills++;
                  continue;
                }
              }
            }
            const line = await endLine;
            if (line.startsWith('FAILED ')) {
              outcome.crashes.push(line.slice(0, 600));
              continue;
            }
            const result = JSON.parse(line.slice(`DONE ${tag} `.length)) as OrchestratorDone;
            if (!kill) undisturbedMs.push(performance.now() - startedAt);
            outcome.done = result;
            outcome.how = result.how;
            outcome.finalMs = result.ms;
            outcome.completed = result.status === 'completed' && result.output === FINAL_ANSWER;
          } catch (error) {
            outcome.crashes.push(String(error).slice(0, 600));
            await proc.kill();
          } finally {
            if (isDead(proc)) {
              live.delete(proc);
              replace(lane);
            }
          }
        }
        outcome.wallMs = performance.now() - began;
        const mark = outcome.completed
          ? 'completed'
          : `NOT completed (${outcome.done?.error ?? 'no result'})`;
        options.log(
          `${runId}: ${mark} after ${outcome.kills} kill(s), ${outcome.attempts} attempt(s), ${Math.round(outcome.wallMs)} ms`,
        );
        return outcome;
      };

      const outcomes: RunOutcome[] = [];
      let cursor = 0;
      const lanes: Lane[] = Array.from({ length: Math.min(LANES, runs) }, () => ({
        current: boot(),
        spares: Array.from({ length: SPARES }, boot),
      }));
      // Every lane's processes booted before the clock starts.
      await Promise.allSettled(lanes.flatMap((lane) => [lane.current, ...lane.spares]));
      const started = performance.now();
      await Promise.all(
        lanes.map(async (lane) => {
          while (cursor < runs) outcomes.push(await runOne(cursor++, lane));
        }),
      );
      const seconds = (performance.now() - started) / 1000;

      // What the journals say: every team run finished, completed.
      const journaled = await Promise.all(outcomes.map((outcome) => finishedStatus(journal, outcome.runId)));
      const side = readSideChannel(dir);
      const reExecuted = [...side.effectsPerKey.entries()].filter(([, count]) => count > 1);
      // The same shape as an undisturbed run: the manager, and one handoff to each worker.
      const shapeOk = (outcome: RunOutcome) =>
        (outcome.done?.to ?? [])
          .filter((to) => to !== 'manager')
          .sort()
          .join(',') === WORKERS.join(',');
      const transcriptOk = outcomes.filter(shapeOk).length;
      for (const [index, outcome] of outcomes.entries()) {
        const expected = journaled[index] === 'completed';
        const ledger = outcome.done?.ledgerTokens;
        if (!expected || !shapeOk(outcome) || ledger !== LEDGER_TOKENS_PER_RUN) {
          options.log(
            `${outcome.runId}: journal finished ${journaled[index]}, transcript ${JSON.stringify(outcome.done?.to)}, ledger ${ledger} tokens, ` +
              `${outcome.how} after ${outcome.kills} kill(s); records: ${await describeJournal(journal, outcome.runId)}`,
          );
        }
      }
      const killed = outcomes.filter((outcome) => outcome.kills > 0);
      const crashes = outcomes.flatMap((outcome) => outcome.crashes);
      if (reExecuted.length > 0)
        options.log(`effects performed twice: ${JSON.stringify(reExecuted.slice(0, 10))}`);
      if (crashes.length > 0) options.log(`orchestrator crashes: ${crashes.slice(0, 3).join('\n')}`);
      const msOf = (list: RunOutcome[], pick: (outcome: RunOutcome) => number) => ({
        p50: Math.round(percentile(list.map(pick), 50)),
        p95: Math.round(percentile(list.map(pick), 95)),
        max: Math.round(Math.max(0, ...list.map(pick))),
      });
      return {
        runs,
        orchestratorKills: outcomes.reduce((sum, outcome) => sum + outcome.kills, 0),
        runsKilled: killed.length,
        runsKilledTwiceOrMore: outcomes.filter((outcome) => outcome.kills >= 2).length,
        completed: outcomes.filter((outcome) => outcome.completed).length,
        journaledCompleted: journaled.filter((status) => status === 'completed').length,
        transcriptsAsExpected: transcriptOk,
        ledger: {
          tokensPerRun: LEDGER_TOKENS_PER_RUN,
          runsBelow: outcomes.filter((outcome) => (outcome.done?.ledgerTokens ?? 0) < LEDGER_TOKENS_PER_RUN)
            .length,
          runsAbove: outcomes.filter((outcome) => (outcome.done?.ledgerTokens ?? 0) > LEDGER_TOKENS_PER_RUN)
            .length,
        },
        reExecutedTools: reExecuted.length,
        effectsPerformedTwiceOrMore: reExecuted.reduce((sum, [, count]) => sum + count - 1, 0),
        possibleDuplicates: side.skippedDuplicates,
        possibleDuplicatesNotYetPerformed: side.flaggedPerformed,
        effectsExpected: runs * EFFECTS_PER_RUN,
        effectKeys: side.effectsPerKey.size,
        effectsPerformed: side.performed,
        resumedFrom: {
          journal: outcomes.filter((outcome) => outcome.how === 'resume').length,
          nothingJournaledYet: outcomes.filter((outcome) => outcome.how === 'run-after-unknown').length,
        },
        orchestratorCrashes: crashes.length,
        attempts: outcomes.reduce((sum, outcome) => sum + outcome.attempts, 0),
        orchestratorProcesses: serial,
        msPerRun: msOf(outcomes, (outcome) => outcome.wallMs),
        msPerRunKilled: msOf(killed, (outcome) => outcome.wallMs),
        msPerRunNotKilled: msOf(
          outcomes.filter((outcome) => outcome.kills === 0),
          (outcome) => outcome.wallMs,
        ),
        msTeamUndisturbed: msOf(
          outcomes.filter((outcome) => outcome.kills === 0),
          (outcome) => outcome.finalMs,
        ),
        msResumeToEnd: msOf(killed, (outcome) => outcome.finalMs),
        method: {
          team: 'supervisor: manager delegates to a and b at once, then c; each worker makes 2 send_message calls with a file side effect',
          lanes: LANES,
          killChance: { first: KILL_FIRST, resume: KILL_RESUME, maxPerRun: MAX_KILLS },
          killMoment: 'uniform in [0, median undisturbed team time) after the orchestrator prints STARTED',
          modelDelayMs: MODEL_DELAY_MS,
          toolDelayMs: TOOL_DELAY_MS,
          orchestrators: `each lane keeps ${SPARES} booted standby processes; after a kill the run resumes in one and a new standby boots`,
          msPerRun:
            'first job sent to the result, kills and resumes included (Node boot excluded: standbys are booted ahead)',
        },
        wallSeconds: round1(seconds),
      };
    } finally {
      await Promise.all([...live].map((orchestrator) => orchestrator.stop()));
      await bus.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  check(f) {
    const problems: string[] = [];
    if (f.completed !== f.runs) problems.push(`${f.completed} of ${f.runs} team runs completed`);
    if (f.journaledCompleted !== f.runs)
      problems.push(`${f.journaledCompleted} of ${f.runs} journals end with a completed run`);
    if (f.reExecutedTools !== 0) problems.push(`${f.reExecutedTools} tool effects were performed twice`);
    if (f.transcriptsAsExpected !== f.runs)
      problems.push(
        `${(f.runs as number) - (f.transcriptsAsExpected as number)} resumed teams lost handoffs from their transcript`,
      );
    if (f.effectKeys !== f.effectsExpected)
      problems.push(`${f.effectKeys} distinct effects, ${f.effectsExpected} expected`);
    if (f.orchestratorCrashes !== 0)
      problems.push(`${f.orchestratorCrashes} orchestrators failed without being killed`);
    if ((f.orchestratorKills as number) === 0) problems.push('no orchestrator was killed');
    return problems;
  },
};

/** The status the team's journal finished with (a resume that found the run finished opens it once more). */
async function finishedStatus(journal: RunJournal, runId: string): Promise<string | undefined> {
  const entries = await journal.read(runId);
  const finished = entries.filter((entry) => entry.record.type === 'run.finished');
  const last = finished.at(-1)?.record;
  return last?.type === 'run.finished' && finished.length === 1 ? last.status : undefined;
}

async function describeJournal(journal: RunJournal, runId: string): Promise<string> {
  const entries = await journal.read(runId);
  return entries.map((entry) => entry.record.type).join(' ');
}

// ---------------------------------------------------------------------------------------------------
// durable.approvals

const APPROVALS_NAMESPACE = 'chaos_approvals';
const DECIDER_PROCESSES = 2;
const CONNECTIONS_PER_PROCESS = 5;
/** One approval decided every this many ms, by every decider at once. */
const INTERVAL_MS = 25;

interface StoreFigures {
  approvals: number;
  deciders: number;
  processes: number;
  decideCalls: number;
  decisions: number;
  decidedTwice: number;
  undecided: number;
  lost: number;
  errors: number;
  errorSamples: string[];
  /** Spread of the 10 decide calls' start times for one approval. */
  startSpreadMs: { p50: number; max: number };
  /** Approvals whose 10 decide calls were all in flight at one moment. */
  allDecidersInFlightAtOnce: number;
  decideMs: { p50: number; p99: number };
}

function sameDecision(a: ApprovalDecision | undefined, b: ApprovalDecision): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function decideFromProcesses(
  store: ApprovalStore,
  deciderBase: Omit<DeciderConfig, 'process' | 'firstDecider' | 'goFile'>,
  scratch: string,
  count: number,
): Promise<StoreFigures> {
  for (let i = 0; i < count; i++) {
    const { runId, toolCallId } = approvalIds(i);
    await store.request({
      runId,
      toolCallId,
      agent: 'billing',
      tool: 'refund',
      risk: 'destructive',
      args: { order: 'A-1', amount: 40 },
      reason: 'risk',
      requestedAt: Date.now(),
    });
  }
  const goFile = join(scratch, `go-${deciderBase.store}`);
  const deciders = Array.from({ length: DECIDER_PROCESSES }, (_, p) =>
    startModule('durable-decider.js', [
      JSON.stringify({
        ...deciderBase,
        process: p,
        firstDecider: p * CONNECTIONS_PER_PROCESS,
        goFile,
      } satisfies DeciderConfig),
    ]),
  );
  try {
    await Promise.all(deciders.map((decider) => decider.waitFor(/^READY$/)));
    writeFileSync(`${goFile}.tmp`, String(Date.now() + 200));
    renameSync(`${goFile}.tmp`, goFile);
    const reports = await Promise.all(deciders.map((decider) => decider.waitFor(/^RESULT /, 120_000)));
    const attempts = reports.flatMap((line) => JSON.parse(line.slice('RESULT '.length)) as DecideAttempt[]);
    const byApproval = new Map<number, DecideAttempt[]>();
    for (const attempt of attempts) {
      const list = byApproval.get(attempt.i) ?? [];
      list.push(attempt);
      byApproval.set(attempt.i, list);
    }
    let decidedTwice = 0;
    let undecided = 0;
    let inFlightTogether = 0;
    const spreads: number[] = [];
    for (let i = 0; i < count; i++) {
      const list = byApproval.get(i) ?? [];
      const winners = list.filter((attempt) => attempt.outcome === 'won');
      const { runId, toolCallId } = approvalIds(i);
      const final = await store.get(runId, toolCallId);
      const winner = winners[0];
      if (winners.length > 1) decidedTwice++;
      else if (winner === undefined) {
        // Nobody was told it won: the record must still be pending (a decided one would have an unknown winner).
        if (final?.status !== 'pending') decidedTwice++;
        undecided++;
      } else if (
        final?.decidedBy !== winner.by ||
        !sameDecision(final.decision, decisionOf(winner.decider))
      ) {
        decidedTwice++;
      }
      if (list.length > 0) {
        const starts = list.map((attempt) => attempt.at);
        const ends = list.map((attempt) => attempt.at + attempt.ms);
        spreads.push(Math.max(...starts) - Math.min(...starts));
        if (Math.max(...starts) < Math.min(...ends)) inFlightTogether++;
      }
    }
    const errors = attempts.filter((attempt) => attempt.outcome === 'error');
    const durations = attempts.map((attempt) => attempt.ms);
    return {
      approvals: count,
      deciders: DECIDER_PROCESSES * CONNECTIONS_PER_PROCESS,
      processes: DECIDER_PROCESSES,
      decideCalls: attempts.length,
      decisions: attempts.filter((attempt) => attempt.outcome === 'won').length,
      decidedTwice,
      undecided,
      lost: attempts.filter((attempt) => attempt.outcome === 'lost').length,
      errors: errors.length,
      errorSamples: [...new Set(errors.map((attempt) => attempt.code ?? ''))].slice(0, 5),
      startSpreadMs: { p50: round1(percentile(spreads, 50)), max: round1(Math.max(0, ...spreads)) },
      allDecidersInFlightAtOnce: inFlightTogether,
      decideMs: { p50: round1(percentile(durations, 50)), p99: round1(percentile(durations, 99)) },
    };
  } finally {
    await Promise.all(deciders.map((decider) => decider.stop()));
  }
}

export const approvals: ChaosScenario = {
  key: 'durable.approvals',
  description:
    '200 pending approvals per store (NATS KV, files), each decided by 10 deciders at once from 10 connections in 2 processes: one decision each',
  async run(options) {
    const count = scaled(options, 200, 20);
    const scratch = mkdtempSync(join(tmpdir(), 'baton-approvals-'));
    const server = await startNatsServer({ jetstream: true });
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-approvals-suite' });
    try {
      const base = {
        connections: CONNECTIONS_PER_PROCESS,
        approvals: count,
        intervalMs: INTERVAL_MS,
      };
      const nats = await decideFromProcesses(
        natsApprovals(bus, { namespace: APPROVALS_NAMESPACE }),
        { ...base, store: 'nats', url: server.url, namespace: APPROVALS_NAMESPACE },
        scratch,
        count,
      );
      options.log(`nats: ${JSON.stringify(nats)}`);
      const dir = join(scratch, 'approvals');
      const file = await decideFromProcesses(
        fileApprovals({ dir }),
        { ...base, store: 'file', dir },
        scratch,
        count,
      );
      options.log(`file: ${JSON.stringify(file)}`);
      return {
        decisions: nats.decisions + file.decisions,
        decidedTwice: nats.decidedTwice + file.decidedTwice,
        nats,
        file,
        method: {
          deciders: `${DECIDER_PROCESSES} processes × ${CONNECTIONS_PER_PROCESS} connections (NATS) or store instances (files)`,
          schedule: `approval i decided at start + i × ${INTERVAL_MS} ms by every decider (one clock for all processes)`,
          decidedTwice:
            'approvals with more than one winning decider, or whose stored record is not the winner’s decision',
        },
      };
    } finally {
      await bus.close();
      await server.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
  check(f) {
    const problems: string[] = [];
    for (const name of ['nats', 'file'] as const) {
      const store = f[name] as StoreFigures;
      if (store.decidedTwice !== 0) problems.push(`${name}: ${store.decidedTwice} approvals decided twice`);
      if (store.undecided !== 0) problems.push(`${name}: ${store.undecided} approvals no decider won`);
      if (store.errors !== 0)
        problems.push(`${name}: ${store.errors} decide calls failed (${store.errorSamples.join('; ')})`);
    }
    return problems;
  },
};
