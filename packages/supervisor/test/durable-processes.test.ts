/**
 * Durable team runs across real processes (issue 11): an orchestrator SIGKILLed mid-team is resumed by a
 * new process and completes without re-running what its journal recorded; one paused state resumed by two
 * processes at once runs its destructive call once. Every process is its own Node (tsx) process; NATS is
 * a real nats-server with JetStream. Side effects are counted in files, not in memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatsBus, natsJournal } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { type JournalEntry, type JournalRecordOf, run } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  durablePipeline,
  type JournalConfig,
  janitor,
  openJournal,
  readLines,
  transcriptShape,
} from './fixtures/durable-members.js';

const ORCHESTRATOR = fileURLToPath(new URL('./fixtures/durable-orchestrator.ts', import.meta.url));
const STATE_RESUMER = fileURLToPath(new URL('./fixtures/durable-state.ts', import.meta.url));

interface Fixture {
  child: ChildProcess;
  /** Every line written on stdout so far. */
  lines: string[];
  /** Resolves with the first stdout line matching `test`; rejects if the process exits first. */
  line(test: (line: string) => boolean): Promise<string>;
  exit: Promise<number | null>;
}

/** Starts a fixture script in its own Node process (TypeScript through tsx, sources via the export condition). */
function startFixture(script: string, config: unknown): Fixture {
  const child = spawn(
    process.execPath,
    ['--conditions=@baton/source', '--import', 'tsx', script, JSON.stringify(config)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let stderr = '';
  let buffer = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.test(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exit,
    line(test) {
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        void exit.then((code) => reject(new Error(`${script} exited (${code}) first: ${stderr}`)));
      });
    },
  };
}

/** Waits for `predicate`, looking every 10 ms (what it waits for is an event in another process). */
async function until(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const records = <T extends JournalRecordOf<JournalEntry['record']['type']>['type']>(
  entries: JournalEntry[],
  type: T,
) => entries.map((entry) => entry.record).filter((record) => record.type === type) as JournalRecordOf<T>[];

describe('durable team runs across processes (real nats-server)', () => {
  let nats: NatsServer;
  let bus: NatsBus;
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const started = (fixture: Fixture) => {
    children.push(fixture.child);
    return fixture;
  };

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
    bus = await NatsBus.connect({ servers: nats.url, name: 'durable-processes-test' });
  });
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await bus?.close();
    await nats?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  // Stage b's side effect is the 2nd tool line, c's the 3rd. Stage c's tool never returns in the first
  // process, so whenever the kill lands after the line, the team has not ended.
  it.each([
    ['b', 2],
    ['c', 3],
  ])(
    'SIGKILL once stage %s did its side effect; a new process resumes: same transcript, nothing recorded runs again',
    async (stage, lines) => {
      const dir = tempDir('baton-kill-');
      const sideChannel = join(dir, 'tools.log');
      const modelLog = join(dir, 'models.log');
      const namespace = `kill${stage}${process.pid}`;
      const journalConfig: JournalConfig = { kind: 'nats', url: nats.url, where: namespace };
      const runId = `team-kill-${stage}`;
      const base = { journal: journalConfig, runId, sideChannel, modelLog, momentMs: 150 };

      // The same team, uninterrupted, in this process: the shape the resumed run must have.
      const reference = await durablePipeline({
        sideChannel: join(dir, 'reference-tools.log'),
        modelLog: join(dir, 'reference-models.log'),
        momentMs: 0,
      }).run('go');
      expect(reference.status).toBe('completed');

      const first = started(startFixture(ORCHESTRATOR, { ...base, mode: 'run', holdAt: 'c' }));
      await until(() => readLines(sideChannel).length >= lines, `stage ${stage}'s tool line`);
      first.child.kill('SIGKILL');
      await first.exit;
      expect(first.child.signalCode).toBe('SIGKILL');

      // What the journal had recorded when the orchestrator died.
      const journal = natsJournal(bus, { namespace });
      const teamEntries = await journal.read(runId);
      expect(records(teamEntries, 'run.finished')).toEqual([]);
      const doneBefore = new Set(records(teamEntries, 'handoff.done').map((record) => record.member));
      expect(doneBefore.has('a')).toBe(true);
      const recordedKeys: string[] = [];
      const recordedSteps = new Map<string, Set<number>>();
      for (const sent of records(teamEntries, 'handoff.sent')) {
        const entries = await journal.read(sent.memberRunId);
        const keys = new Map(
          records(entries, 'tool.intent').map((intent) => [intent.toolCallId, intent.idempotencyKey]),
        );
        for (const outcome of records(entries, 'tool.outcome'))
          recordedKeys.push(keys.get(outcome.toolCallId) as string);
        recordedSteps.set(sent.member, new Set(records(entries, 'model.step').map((record) => record.step)));
      }
      expect(recordedKeys.length).toBeGreaterThanOrEqual(1);
      const modelCallsBefore = readLines(modelLog).length;

      const second = started(startFixture(ORCHESTRATOR, { ...base, mode: 'resume' }));
      const [code, line] = await Promise.all([second.exit, second.line((text) => text.startsWith('{'))]);
      expect(code).toBe(0);
      const resumed = JSON.parse(line) as {
        status: string;
        shape: string[];
        steps: Record<string, number>;
        pid: number;
      };
      expect(resumed.pid).not.toBe(first.child.pid);
      expect(resumed.status).toBe('completed');
      expect(resumed.shape).toEqual(transcriptShape(reference));
      expect(resumed.steps).toEqual(
        Object.fromEntries(Object.entries(reference.members).map(([n, r]) => [n, r.steps])),
      );

      // Tools: every call whose outcome was journaled before the kill ran exactly once in all; no call ran
      // twice as a first execution (a repeat is only ever a possible duplicate the tool was told about).
      const executions = readLines(sideChannel).map((entry) => entry.split('\t') as [string, string]);
      for (const key of recordedKeys)
        expect(
          executions.filter(([k]) => k === key),
          key,
        ).toHaveLength(1);
      const firsts = executions.filter(([, kind]) => kind === 'first').map(([key]) => key);
      expect(new Set(firsts).size).toBe(firsts.length);
      expect(firsts).toHaveLength(3);
      for (const [key, kind] of executions) if (kind === 'dup') expect(recordedKeys).not.toContain(key);

      // Members: none whose handoff was done before the kill ran again, and no recorded model step was asked again.
      const callsAfter = readLines(modelLog)
        .slice(modelCallsBefore)
        .map((entry) => entry.split('\t') as [string, string]);
      for (const member of doneBefore)
        expect(
          callsAfter.filter(([name]) => name === member),
          member,
        ).toEqual([]);
      for (const [member, steps] of recordedSteps) {
        for (const [name, step] of callsAfter)
          if (name === member) expect(steps.has(Number(step))).toBe(false);
      }
    },
  );

  it.each(['nats', 'file'] as const)(
    'one paused state resumed by two processes at once (%s journal): one completes, one is refused, the tool ran once',
    async (kind) => {
      const dir = tempDir('baton-state-');
      const sideChannel = join(dir, 'wipes.log');
      const journalConfig: JournalConfig =
        kind === 'nats'
          ? { kind, url: nats.url, where: `state${process.pid}` }
          : { kind, where: join(dir, 'journal') };
      const { journal, close } = await openJournal(journalConfig);
      const paused = await run(janitor(sideChannel), 'clean up', { journal, runId: `state-${kind}` });
      await close();
      expect(paused.status).toBe('awaiting_approval');
      const stateFile = join(dir, 'state.json');
      writeFileSync(stateFile, JSON.stringify(paused.state));

      const config = { journal: journalConfig, stateFile, sideChannel };
      const resumers = [
        started(startFixture(STATE_RESUMER, config)),
        started(startFixture(STATE_RESUMER, config)),
      ];
      await Promise.all(resumers.map((resumer) => resumer.line((line) => line === 'READY')));
      for (const resumer of resumers) resumer.child.stdin?.write('go\n');
      const reports = await Promise.all(
        resumers.map(async (resumer) => {
          const line = await resumer.line((text) => text.startsWith('{'));
          await resumer.exit;
          return JSON.parse(line) as { status?: string; refused?: boolean; code?: string };
        }),
      );
      const completed = reports.filter((report) => report.status === 'completed');
      const refused = reports.filter((report) => report.status !== 'completed');
      expect(completed, JSON.stringify(reports)).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(['STATE_CONSUMED', 'JOURNAL_CONFLICT']).toContain(refused[0]?.code);
      expect(readLines(sideChannel)).toEqual([`state-${kind}:call_1_0`]);
    },
  );
});
