import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  envelopeSchema,
  parseContractId,
  readEnvelope,
  readRunResult,
  runResultSchema,
} from '@baton/bus';
import type { RunResult } from '@baton/core';
import { describe, expect, it } from 'vitest';

function envelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    v: 1,
    id: 'id-1',
    kind: 'invoke',
    contract: 'research.request@1',
    from: 'client',
    to: 'researcher',
    runId: 'run-1',
    correlationId: 'id-1',
    causationId: null,
    deadline: 1_800_000_000_000,
    budget: { steps: 3, tokens: 1000, costUsd: 0.5, deadline: 1_800_000_000_000 },
    attempt: 1,
    hop: 0,
    payload: { topic: 'tides', depth: 2, tags: ['a', 'b'], nested: { ok: true, none: null } },
    ...overrides,
  };
}

function result(overrides: Partial<RunResult> = {}): RunResult {
  return {
    status: 'completed',
    output: { text: 'done "quoted" \\ and ünïcödé \u2028 🚀' },
    partial: { summary: 'researcher completed in 2 step(s).', toolResults: [], missing: [] },
    steps: 2,
    usage: { inputTokens: 120, outputTokens: 40, cachedInputTokens: 10 },
    costUsd: 0.0012,
    durationMs: 12.345678,
    runId: 'run-1',
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    agent: 'researcher',
    ...overrides,
  };
}

/** Values that probe every field of the fast checks, valid and not. */
function variants(): unknown[] {
  const base = envelope() as unknown as Record<string, unknown>;
  const out: unknown[] = [base, null, 42, 'x', [], {}];
  const replacements: Record<string, unknown[]> = {
    v: [0, 2, '1', undefined],
    id: ['', 'x'.repeat(256), 'x'.repeat(257), 7, undefined],
    kind: ['result', 'heartbeat', 'nope', undefined],
    contract: ['', 'a@1', 5],
    from: ['', 'x'.repeat(257), undefined],
    to: [''],
    runId: ['', null],
    correlationId: [undefined],
    causationId: ['c', '', undefined, 5],
    deadline: [null, 0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, '1', undefined],
    budget: [
      {},
      [],
      null,
      { steps: -1 },
      { steps: 1.5 },
      { tokens: Number.POSITIVE_INFINITY },
      { deadline: 1.5 },
      { deadline: 0 },
      { costUsd: '1' },
      { extra: 1 },
    ],
    attempt: [0, 1, 2.5, undefined],
    hop: [-1, 0, 7, 1.5, '0'],
    payload: [undefined, null, 'text', [1, 2]],
  };
  for (const [key, values] of Object.entries(replacements)) {
    for (const value of values) {
      const copy: Record<string, unknown> = { ...base };
      if (value === undefined) delete copy[key];
      else copy[key] = value;
      out.push(copy);
    }
  }
  return out;
}

describe('envelope v1', () => {
  it('the hand-written check accepts exactly what the zod schema accepts', () => {
    const disagreements = variants().filter(
      (value) => (readEnvelope(value) !== undefined) !== envelopeSchema.safeParse(value).success,
    );
    expect(disagreements).toEqual([]);
  });

  it('the fast serializer produces what JSON.stringify would', () => {
    const cases: Envelope[] = [
      envelope(),
      envelope({ causationId: 'parent', deadline: null, budget: {} }),
      envelope({ kind: 'result', payload: result() }),
      envelope({
        kind: 'result',
        payload: result({
          status: 'failed',
          output: undefined,
          error: {
            name: 'BatonError',
            code: 'TOOL_FAILED',
            category: 'system',
            message: 'x',
            retryable: false,
          },
        }),
      }),
      envelope({ kind: 'result', payload: { ...result(), extra: 'kept' } as unknown as RunResult }),
      envelope({
        kind: 'result',
        payload: result({
          partial: {
            summary: 's',
            text: 't',
            toolResults: [
              {
                step: 1,
                toolCallId: 'c',
                tool: 'search',
                args: { q: 'x' },
                ok: true,
                data: [1],
                durationMs: 3,
              },
            ],
            missing: ['write'],
          },
        }),
      }),
      envelope({ from: 'weird "name" \n', payload: { date: new Date(0), skip: undefined, fn: undefined } }),
      envelope({ payload: undefined }),
    ];
    for (const value of cases) {
      const text = encodeEnvelope(value);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
    }
  });

  it('round-trips through decode and rejects what is not an envelope with typed errors', () => {
    const value = envelope();
    const decoded = decodeEnvelope(encodeEnvelope(value));
    expect(decoded.ok && decoded.envelope).toEqual(value);
    const fromBytes = decodeEnvelope(Buffer.from(encodeEnvelope(value)));
    expect(fromBytes.ok).toBe(true);

    const badJson = decodeEnvelope('{"v":');
    expect(badJson.ok === false && badJson.error.code).toBe('ENVELOPE_INVALID');
    const version = decodeEnvelope(JSON.stringify({ ...value, v: 2 }));
    expect(version.ok === false && version.error.details).toMatchObject({ reason: 'version', version: 2 });
    const missing = decodeEnvelope(JSON.stringify({ v: 1, id: 'x' }));
    expect(missing.ok === false && missing.error.message).toMatch(/kind/);
    expect(() => encodeEnvelope({ ...value, hop: -1 })).toThrow(/invalid envelope/);
  });

  it('parses contract ids', () => {
    expect(parseContractId('research.request@2')).toEqual({ name: 'research.request', version: 2 });
    expect(parseContractId('no-version')).toBeUndefined();
    expect(parseContractId('x@0')).toBeUndefined();
  });
});

describe('RunResult on the wire', () => {
  it('the hand-written check accepts exactly what the zod schema accepts', () => {
    const base = result() as unknown as Record<string, unknown>;
    const values: unknown[] = [base, null, {}, []];
    const replacements: Record<string, unknown[]> = {
      status: ['timeout', 'nope', undefined],
      output: [undefined, null],
      partial: [
        null,
        {},
        { summary: 's', toolResults: [], missing: [1] },
        { summary: 's', text: 3, toolResults: [], missing: [] },
      ],
      error: [{ code: 'X', message: 'm' }, { code: 1, message: 'm' }, null],
      steps: [-1, 1.5, undefined],
      usage: [
        { inputTokens: 1 },
        { inputTokens: 1, outputTokens: -1 },
        { inputTokens: 1, outputTokens: 1, reasoningTokens: 'x' },
      ],
      costUsd: [-1, undefined],
      durationMs: [Number.NaN],
      runId: [1],
      traceId: [undefined],
      agent: [null],
    };
    for (const [key, options] of Object.entries(replacements)) {
      for (const value of options) {
        const copy: Record<string, unknown> = { ...base };
        if (value === undefined) delete copy[key];
        else copy[key] = value;
        values.push(copy);
      }
    }
    const disagreements = values.filter(
      (value) => (readRunResult(value) !== undefined) !== runResultSchema.safeParse(value).success,
    );
    expect(disagreements).toEqual([]);
  });
});
