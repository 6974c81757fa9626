import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { memoryJournal } from '@baton/core';
import { catalogueTeam, localMembers } from '@baton/teams';
import { describe, expect, it } from 'vitest';
import {
  addCaseToSuite,
  customizeMember,
  inputFor,
  loadSuite,
  RecordingSession,
  recordingFromJournal,
  runSuite,
  runVariant,
  type Variant,
} from '../src/index.js';

const variant: Variant = { team: 'research', model: 'offline' };

function suiteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-add-case-'));
  const path = join(dir, 'suite.json');
  writeFileSync(
    path,
    `${JSON.stringify(
      {
        name: 'regressions',
        target: variant,
        cases: [{ id: 'seed', topic: 'tool design', checks: [{ kind: 'citations' }] }],
      },
      null,
      2,
    )}\n`,
  );
  return path;
}

describe('add-case', () => {
  it('turns a recorded run into a regression case that replays its tool results and passes', async () => {
    const recorder = new RecordingSession();
    const input = inputFor(variant, { topic: 'caching tool results' });
    const run = await runVariant(variant, input, { hooks: recorder });
    const recording = recorder.recording({
      id: run.runId,
      input,
      team: 'research',
      result: { status: run.status, output: run.output, steps: run.steps },
    });
    const path = suiteFile();
    const added = addCaseToSuite(path, recording, {
      id: 'caching-regression',
      checks: [{ kind: 'contains', text: 'cache' }],
    });
    expect(added.recordingPath).toBe(join(dirname(path), 'recordings', 'caching-regression.json'));
    expect(added.case).toMatchObject({
      id: 'caching-regression',
      input,
      replay: { recording: join('recordings', 'caching-regression.json'), mode: 'tools' },
      tags: ['regression'],
    });
    expect(added.case.checks).toEqual([
      { kind: 'status', equals: 'completed' },
      { kind: 'tool-called', agent: 'researcher', tool: 'search_corpus' },
      { kind: 'tool-called', agent: 'researcher', tool: 'read_document' },
      { kind: 'citations', min: 1, everySection: true },
      { kind: 'contains', text: 'cache' },
    ]);
    // The file on disk has both cases, and it still loads.
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as { cases: { id: string }[] };
    expect(onDisk.cases.map((c) => c.id)).toEqual(['seed', 'caching-regression']);
    const suite = loadSuite(path);
    const report = await runSuite(suite, { only: ['caching-regression'], baseDir: dirname(path) });
    const sample = report.cases[0]?.samples[0];
    expect(sample?.passed).toBe(true);
    expect(sample?.replay).toMatchObject({ mode: 'tools', misses: 0 });
    expect(sample?.replay?.hits).toBeGreaterThan(0);
    // The same id twice is refused, not overwritten.
    expect(() => addCaseToSuite(path, recording, { id: 'caching-regression' })).toThrow(
      expect.objectContaining({ code: 'EVAL_SUITE_INVALID' }),
    );
  });

  it('rebuilds a recording from a journaled team run', async () => {
    const journal = memoryJournal();
    const team = catalogueTeam('research').create({
      members: (name) => customizeMember(localMembers(name), variant),
    });
    const input = { topic: 'streaming progress to users' };
    const result = await team.run(input, { journal, runId: 'journaled-run-1' });
    expect(result.status).toBe('completed');

    const recording = await recordingFromJournal(journal, 'journaled-run-1');
    expect(recording).toMatchObject({ id: 'journaled-run-1', source: 'journal', team: 'research', input });
    expect(recording.result?.status).toBe('completed');
    const steps = Object.values(result.members).reduce((sum, member) => sum + member.steps, 0);
    const modelCalls = Object.values(recording.members).reduce((sum, tape) => sum + tape.model.length, 0);
    expect(modelCalls).toBe(steps);
    expect(recording.members.researcher?.tools.map((call) => call.tool)).toEqual([
      'search_corpus',
      'read_document',
    ]);

    const path = suiteFile();
    const added = addCaseToSuite(path, recording);
    expect(added.case.id).toBe('journaled-run-1');
    const report = await runSuite(loadSuite(path), { only: ['journaled-run-1'], baseDir: dirname(path) });
    expect(report.cases[0]?.samples[0]).toMatchObject({ passed: true, replay: { mode: 'tools', misses: 0 } });

    // A journal-rebuilt recording also replays in full: the model answers come from the journal.
    const full = await runSuite(
      {
        ...loadSuite(path),
        cases: [{ ...added.case, replay: { recording: added.recordingPath, mode: 'full' } }],
      },
      {},
    );
    expect(full.cases[0]?.samples[0]).toMatchObject({ passed: true, replay: { mode: 'full', misses: 0 } });
    await expect(recordingFromJournal(journal, 'no-such-run')).rejects.toMatchObject({ code: 'RUN_UNKNOWN' });
  });
});
