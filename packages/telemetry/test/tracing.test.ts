import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import { researchTeam } from '@baton/teams';
import { JsonlSpanExporter, readRunIndex, readTrace, resolveTrace } from '@baton/telemetry';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';

describe('trace files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-traces-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a team run is written as JSON lines and read back as one trace, found by run id, trace id prefix or "last"', async () => {
    // A real OpenTelemetry SDK provider, with the exporter behind a span processor.
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new JsonlSpanExporter({ dir }))],
    });
    const tracer = provider.getTracer('test');
    const result = await researchTeam().run({ topic: 'structured output' }, { tracer });
    await provider.forceFlush();
    await provider.shutdown();
    expect(result.status).toBe('completed');

    expect(readdirSync(dir).sort()).toEqual([`${result.traceId}.${process.pid}.jsonl`, 'index.jsonl']);
    const spans = readTrace(dir, result.traceId);
    const names = spans.map((span) => span.name);
    expect(names[0]).toBe('invoke_workflow research');
    expect(names.filter((name) => name.startsWith('invoke_agent '))).toEqual([
      'invoke_agent researcher',
      'invoke_agent writer',
      'invoke_agent reviewer',
      'invoke_agent writer',
      'invoke_agent reviewer',
    ]);
    expect(names.some((name) => name.startsWith('chat baton-offline-v1/'))).toBe(true);
    expect(names).toContain('execute_tool search_corpus');
    const root = spans[0];
    expect(root?.parentSpanId).toBeUndefined();
    expect(root?.attributes['baton.run.status']).toBe('completed');
    expect(spans.every((span) => span.traceId === result.traceId && span.pid === process.pid)).toBe(true);

    const index = readRunIndex(dir);
    expect(index.filter((entry) => entry.kind === 'workflow').map((entry) => entry.runId)).toEqual([
      result.runId,
    ]);
    expect(index.filter((entry) => entry.kind === 'agent')).toHaveLength(5);

    expect(resolveTrace(dir, result.runId)).toMatchObject({
      traceId: result.traceId,
      run: { kind: 'workflow', name: 'research' },
    });
    expect(resolveTrace(dir, result.traceId.slice(0, 8)).traceId).toBe(result.traceId);
    expect(resolveTrace(dir, 'last').run?.runId).toBe(result.runId);
    const writerRun = result.members.writer?.runIds[0] as string;
    expect(resolveTrace(dir, writerRun)).toMatchObject({
      traceId: result.traceId,
      run: { kind: 'agent', name: 'writer' },
    });

    // A torn last line (a process killed mid-write) is skipped, not fatal.
    appendFileSync(join(dir, `${result.traceId}.${process.pid}.jsonl`), '{"traceId":"');
    expect(readTrace(dir, result.traceId)).toHaveLength(spans.length);
  });

  it('an unknown reference is an INPUT_INVALID error that says what is recorded', () => {
    try {
      resolveTrace(dir, 'no-such-run');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BatonError);
      expect((error as BatonError).code).toBe('INPUT_INVALID');
      expect((error as BatonError).message).toContain('No trace or run "no-such-run"');
      expect((error as BatonError).hint).toContain('baton trace ls');
    }
    expect(() => resolveTrace(join(dir, 'empty'), 'last')).toThrow(/No runs recorded/);
  });
});
