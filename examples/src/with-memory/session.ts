/**
 * One session with the sous-chef, in this process: it opens the file memory store, runs the assistant on
 * one message of the user, and prints one JSON line saying what happened. main.ts starts each session
 * in a process of its own, so whatever the next one knows, it read from the store on disk.
 *
 *   node examples/dist/with-memory/session.js <state-dir> <session-id> <message>
 *
 * `<state-dir>` holds `memory/` (the store) and `model-requests.jsonl` (the side channel).
 */
import { join } from 'node:path';
import { BatonError, fileMemoryStore, piiGuard, RunEvents, run } from '@baton/core';
import { isMain } from '../support/main.js';
import { sousChef, sousChefModel } from './assistant.js';

/** Whose memory the example keeps: one user of one tenant. */
export const WHO = { tenant: 'recipes-app', user: 'ada' } as const;

/** What a session prints (one JSON line on stdout). */
export interface SessionReport {
  session: string;
  pid: number;
  runId: string;
  status: string;
  output: unknown;
  /** What the run put into the model's context at the start (absent: nothing was recalled). */
  recalled?: { count: number; kinds: string[]; untrusted: number };
  /** Every memory write: by the tool, the episode, the recap; `rewritten` when a guard redacted it. */
  saved: { via: string; key: string; kind: string; version: number; rewritten: boolean }[];
  /** Memory operations that failed (the run goes on without them). */
  failed: string[];
}

export async function runSession(dir: string, session: string, message: string): Promise<SessionReport> {
  const store = fileMemoryStore({ dir: join(dir, 'memory') });
  const model = sousChefModel(session, join(dir, 'model-requests.jsonl'));
  const events = new RunEvents();
  const report: SessionReport = {
    session,
    pid: process.pid,
    runId: `${session}-${Date.now().toString(36)}`,
    status: 'running',
    output: undefined,
    saved: [],
    failed: [],
  };
  events.on('memory.recalled', (event) => {
    report.recalled = { count: event.count, kinds: [...event.kinds], untrusted: event.untrusted };
  });
  events.on('memory.saved', (event) => {
    const { via, key, kind, version, rewritten } = event;
    report.saved.push({ via, key, kind, version, rewritten });
  });
  events.on('memory.failed', (event) => report.failed.push(`${event.operation}: ${event.code}`));
  try {
    const result = await run(sousChef(store, model), message, {
      runId: report.runId,
      tenantId: WHO.tenant,
      userId: WHO.user,
      sessionId: session,
      memory: { store },
      // Whatever is written to memory — by the tool, in the episode, in the recap — passes this first.
      guardrails: { memoryWrite: [piiGuard()] },
      events,
    });
    report.status = result.status;
    report.output = result.output;
    return report;
  } finally {
    await store.close();
  }
}

if (isMain(import.meta.url)) {
  const [dir, session, message] = process.argv.slice(2);
  if (!dir || !session || !message) {
    process.stderr.write('usage: session.js <state-dir> <session-id> <message>\n');
    process.exit(2);
  }
  runSession(dir, session, message).then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      process.exitCode = report.status === 'completed' ? 0 : 1;
    },
    (error: unknown) => {
      const failure = BatonError.wrap(error);
      process.stderr.write(`session failed: ${failure.code}: ${failure.message}\n`);
      process.exitCode = 1;
    },
  );
}
