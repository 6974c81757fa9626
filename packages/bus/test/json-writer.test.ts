import { type Envelope, encodeEnvelope } from '@baton/bus';
import type { RunResult } from '@baton/core';
import { describe, expect, it } from 'vitest';

// The envelope writer promises byte-for-byte JSON.stringify output for any payload; these tests hold
// it to that on values chosen to hit every branch, and on generated ones.

function invoke(payload: unknown, overrides: Partial<Envelope> = {}): Envelope {
  return {
    v: 1,
    id: 'env-1',
    kind: 'invoke',
    contract: 'bench.echo@1',
    from: 'client',
    to: 'echo',
    runId: 'run-1',
    correlationId: 'env-1',
    causationId: null,
    deadline: 1_900_000_000_000,
    budget: { steps: 3, costUsd: 0.5 },
    attempt: 1,
    hop: 0,
    payload,
    ...overrides,
  };
}

function result(output: unknown, overrides: Partial<RunResult> = {}): RunResult {
  return {
    status: 'completed',
    output,
    partial: { summary: 'done', toolResults: [], missing: [] },
    steps: 1,
    usage: { inputTokens: 10, outputTokens: 5 },
    costUsd: 0.001,
    durationMs: 12.5,
    runId: 'run-1',
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    agent: 'echo',
    ...overrides,
  };
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const cases: Record<string, unknown> = {
  'plain text': { text: 'handoff budget deadline' },
  'quotes and backslashes': { text: 'say "hi" \\ then C:\\path' },
  'control characters': { text: 'line\nnext\ttab\r\u0000\u001f\b\f' },
  'non-ASCII': { text: 'bûdget 预算 ünïcödé' },
  'emoji (surrogate pairs)': { text: 'ship it 🚀 now 😀' },
  'lone surrogates': { text: 'broken \ud800 and \udc00 halves' },
  'line separators': { text: 'a\u2028b\u2029c\u007f' },
  numbers: { values: [0, -0, 1.5, -2e-7, 1e21, 123456789012345680000, Number.MAX_VALUE] },
  'non-finite numbers': { values: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] },
  booleans: { yes: true, no: false, nothing: null },
  'undefined, functions and symbols': {
    gone: undefined,
    fn: () => 1,
    sym: Symbol('s'),
    list: [undefined, () => 1, Symbol('t'), 1],
  },
  // biome-ignore lint/suspicious/noSparseArray: a hole is what this case is about.
  'sparse array': { list: [1, , 3] },
  'integer-like keys come first': { b: 1, 2: 'two', a: 3, 1: 'one' },
  'keys that need escaping': { 'quote"key': 1, 'new\nline': 2, é: 3 },
  'symbol keys': { [Symbol('hidden')]: 1, shown: 2 },
  'nested structures': { a: { b: { c: [{ d: [[], {}] }] } } },
  Date: { at: new Date(Date.UTC(2026, 10, 24, 12)) },
  'class instance': { point: new Point(1, 2) },
  'toJSON on a plain object': { custom: { toJSON: (key: string) => `key=${key}` } },
  'toJSON on an array': { list: Object.assign([1, 2], { toJSON: () => 'array' }) },
  Map: { map: new Map([['a', 1]]) },
  'null prototype': { bare: Object.assign(Object.create(null) as object, { a: 1 }) },
  'boxed primitives': { boxed: [Object(1), Object('s'), Object(true)] },
  getter: {
    get computed() {
      return 42;
    },
  },
  'deep nesting': { deep: Array.from({ length: 80 }).reduce<unknown>((inner) => ({ inner }), 'bottom') },
  'top-level string': 'just text',
  'top-level array': [1, 'two', { three: 3 }],
};

describe('envelope JSON writer', () => {
  for (const [name, payload] of Object.entries(cases)) {
    it(`writes exactly what JSON.stringify writes: ${name}`, () => {
      const envelope = invoke(payload);
      expect(encodeEnvelope(envelope)).toBe(JSON.stringify(envelope));
      const reply = invoke(result(payload), { kind: 'result', causationId: 'env-0' });
      expect(encodeEnvelope(reply)).toBe(JSON.stringify(reply));
    });
  }

  it('escapes envelope and result fields that need it', () => {
    const envelope = invoke({ ok: true }, { from: 'cli"ent', to: 'é\n', contract: 'a\\b@1', id: '🚀' });
    expect(encodeEnvelope(envelope)).toBe(JSON.stringify(envelope));
    const odd = result('x', {
      agent: 'ag"ent',
      runId: 'run\t1',
      partial: {
        summary: 'line\nbreak',
        text: 'part "of" it',
        toolResults: [
          { step: 1, toolCallId: 'c"1', tool: 'search', args: { q: 'a\nb' }, ok: true, durationMs: 3 },
        ],
        missing: ['x"y'],
      },
      error: {
        name: 'BatonError',
        code: 'INTERNAL',
        category: 'system',
        message: 'bad "thing"',
        retryable: false,
      },
    });
    const reply = invoke(odd, { kind: 'result' });
    // A RunResult is written in its canonical field order, whatever order the agent built it in.
    expect(JSON.parse(encodeEnvelope(reply))).toEqual(JSON.parse(JSON.stringify(reply)));
  });

  it('leaves out result fields that have no JSON form, as JSON.stringify does', () => {
    const reply = invoke(
      result(() => 'not data'),
      { kind: 'result' },
    );
    const text = encodeEnvelope(reply);
    expect(text).toBe(JSON.stringify(reply));
    expect(JSON.parse(text).payload).not.toHaveProperty('output');
  });

  it('reports cycles and BigInt as JSON.stringify does', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    expect(() => encodeEnvelope(invoke(cycle))).toThrow(TypeError);
    expect(() => encodeEnvelope(invoke({ big: 10n }))).toThrow(TypeError);
  });

  it('agrees with JSON.stringify on generated values', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const alphabet = [
      'a',
      'Z',
      ' ',
      '"',
      '\\',
      '\n',
      '\u0001',
      'é',
      '预',
      '\ud83d\ude80',
      '\ud800',
      '\u2028',
      '/',
    ];
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 12) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
    const value = (depth: number): unknown => {
      const pick = Math.floor(random() * (depth > 3 ? 5 : 8));
      switch (pick) {
        case 0:
          return text();
        case 1:
          return (random() - 0.5) * 10 ** Math.floor(random() * 30);
        case 2:
          return random() < 0.5;
        case 3:
          return null;
        case 4:
          return random() < 0.5 ? undefined : Number.NaN;
        case 5:
          return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
        default: {
          const object: Record<string, unknown> = {};
          for (let index = Math.floor(random() * 4); index > 0; index--) object[text()] = value(depth + 1);
          return object;
        }
      }
    };
    for (let round = 0; round < 500; round++) {
      const payload = { data: value(0) };
      const envelope = invoke(payload);
      expect(encodeEnvelope(envelope)).toBe(JSON.stringify(envelope));
    }
  });
});
