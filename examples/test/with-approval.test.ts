import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/with-approval/main.js';
import { capture } from './capture.js';

describe('examples/with-approval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-example-approval-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pauses on the destructive call, is approved from the CLI, resumes elsewhere: the deletion ran exactly once', async () => {
    const io = capture();
    const run = await main({ dir, out: io.out, progress: io.progress, approver: 'ops-lead@test' });

    // 1. The first run paused on the operator's destructive call, before anything was deleted.
    expect(run.paused.status).toBe('awaiting_approval');
    expect(run.call).toMatchObject({
      tool: 'delete_stale_records',
      args: { table: 'sessions', ids: ['sess-1042', 'sess-2211', 'sess-3007'] },
    });
    expect(run.deletions.paused).toBe(0);
    // 2. The CLI, in its own process, recorded the approval.
    expect(run.approval).toContain(
      `Approved delete_stale_records (call ${run.call.toolCallId} of run ${run.call.runId}) as ops-lead@test.`,
    );
    // 3. Resumed in another process: completed, the deletion ran once.
    expect(run.resumed.pid).not.toBe(process.pid);
    expect(run.resumed).toMatchObject({ status: 'completed', finishedBefore: false });
    expect(run.resumed.output).toBe('Deleted 3 stale sessions record(s): sess-1042, sess-2211, sess-3007.');
    // 4. Resumed again: the recorded result, nothing ran.
    expect(run.resumedAgain).toMatchObject({
      status: 'completed',
      finishedBefore: true,
      output: run.resumed.output,
    });
    expect(run.resumedAgain.pid).not.toBe(run.resumed.pid);
    expect(run.deletions).toEqual({ paused: 0, resumed: 1, resumedAgain: 1 });

    // The side channel: one deletion, under the call's idempotency key.
    const effects = readFileSync(join(dir, 'effects.log'), 'utf8').trim().split('\n');
    expect(effects).toEqual([
      `${run.call.runId}:${run.call.toolCallId}\tsessions\tsess-1042,sess-2211,sess-3007`,
    ]);

    // What a person reads, step by step.
    const report = io.stdout();
    expect(report).toContain(`Operations team, journaled in ${dir} (run ${run.runId})`);
    expect(report).toContain(
      '→ awaiting_approval: waiting for a person to decide on 1 call(s): delete_stale_records (operator)',
    );
    expect(report).toContain(
      'preview: permanently delete 3 record(s) from sessions: sess-1042, sess-2211, sess-3007',
    );
    expect(report).toMatch(
      /\$ .*(?:baton|bin\.[jt]s) approvals approve \S+ call_1_0 --dir \S+ --by ops-lead@test/,
    );
    expect(report).toContain('deletions so far: 1 — the destructive tool ran exactly once');
    expect(report).toMatch(/→ completed \(pid \d+\), the recorded result: Deleted 3 stale sessions/);
    expect(report).toContain('deletions so far: 1 — nothing ran again');
    // Progress came from the team's events, here and in the resuming process.
    expect(io.lines).toContain('[operator] waiting for approval of delete_stale_records');
    expect(io.lines.some((line) => /\[pid \d+\] \[operator\] delete_stale_records\(/.test(line))).toBe(true);
  });
});
