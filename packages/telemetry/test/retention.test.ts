import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import { listRuns, pruneTraces, readRunIndex, traceRetentionFromEnv } from '@baton/telemetry';
import { afterEach, describe, expect, it } from 'vitest';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const id = (n: number) => n.toString(16).padStart(32, '0');

/** A directory of `count` traces, trace n last written n days before NOW, two processes each. */
function traceDir(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-retention-'));
  const index: string[] = [];
  for (let n = 0; n < count; n++) {
    const seconds = (NOW - n * DAY) / 1_000;
    for (const pid of [100, 200]) {
      const file = join(dir, `${id(n)}.${pid}.jsonl`);
      writeFileSync(file, '{}\n');
      utimesSync(file, seconds, seconds);
    }
    index.push(
      JSON.stringify({
        runId: `run-${n}`,
        traceId: id(n),
        spanId: '0'.repeat(16),
        kind: 'workflow',
        name: 'research',
        status: 'completed',
        startMs: NOW - n * DAY,
        pid: 100,
        durationMs: 1_500,
        inputTokens: 10,
        outputTokens: 5,
      }),
    );
  }
  writeFileSync(join(dir, 'index.jsonl'), `${index.join('\n')}\n{"torn":`);
  return dir;
}

describe('trace retention', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest N traces: every file of the others goes, and their index lines', () => {
    const dir = traceDir(5);
    dirs.push(dir);
    const dry = pruneTraces(dir, { keep: 2 }, { now: NOW, dryRun: true });
    expect(dry).toEqual({ kept: 2, removed: [id(4), id(3), id(2)], files: 6, indexLines: 4 });
    expect(readdirSync(dir)).toHaveLength(11);

    const result = pruneTraces(dir, { keep: 2 }, { now: NOW });
    expect(result.removed).toEqual([id(4), id(3), id(2)]);
    expect(readdirSync(dir).sort()).toEqual(
      [
        `${id(0)}.100.jsonl`,
        `${id(0)}.200.jsonl`,
        `${id(1)}.100.jsonl`,
        `${id(1)}.200.jsonl`,
        'index.jsonl',
      ].sort(),
    );
    expect(readRunIndex(dir).map((entry) => entry.runId)).toEqual(['run-0', 'run-1']);
    expect(listRuns(dir).map((entry) => [entry.runId, entry.durationMs, entry.inputTokens])).toEqual([
      ['run-0', 1_500, 10],
      ['run-1', 1_500, 10],
    ]);
  });

  it('removes traces older than the age limit, whatever the count', () => {
    const dir = traceDir(5);
    dirs.push(dir);
    const result = pruneTraces(dir, { keep: 100, maxAgeMs: 2.5 * DAY }, { now: NOW });
    expect(result).toMatchObject({ kept: 3, removed: [id(4), id(3)], files: 4 });
    expect(existsSync(join(dir, `${id(2)}.100.jsonl`))).toBe(true);
    expect(pruneTraces(dir, {}, { now: NOW }).removed).toEqual([]);
  });

  it('reads BATON_TRACE_KEEP and BATON_TRACE_MAX_AGE; defaults 200 and 30 days; 0 turns a limit off', () => {
    expect(traceRetentionFromEnv({})).toEqual({ keep: 200, maxAgeMs: 30 * DAY });
    expect(traceRetentionFromEnv({ BATON_TRACE_KEEP: '20', BATON_TRACE_MAX_AGE: '12h' })).toEqual({
      keep: 20,
      maxAgeMs: 12 * 3_600_000,
    });
    expect(traceRetentionFromEnv({ BATON_TRACE_KEEP: '0', BATON_TRACE_MAX_AGE: 'off' })).toEqual({});
    expect(() => traceRetentionFromEnv({ BATON_TRACE_KEEP: 'many' })).toThrow(BatonError);
    expect(() => traceRetentionFromEnv({ BATON_TRACE_MAX_AGE: '3 weeks' })).toThrow(/BATON_TRACE_MAX_AGE/);
  });
});
