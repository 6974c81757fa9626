import {
  type Bus,
  type BusMessage,
  DEAD_LETTER_DATA_LIMIT,
  DEAD_LETTER_HEADER_LIMIT,
  deadLetterSchema,
  decodeEnvelope,
  explainEnvelope,
  InProcessBus,
  MAX_ENVELOPE_DEPTH,
  NatsBus,
} from '@baton/bus';
import { invokeEnvelope, type NatsServer, startNatsServer, waitUntil } from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadLetterThrottle, WorkerGuard } from '../src/agent/guard.js';
import { type DeadLetter, makeDeadLetter, serializeDeadLetter } from '../src/dead-letter.js';
import { quote } from '../src/quote.js';

const deepObjectV = (depth: number) =>
  `{"v":${'{"v":'.repeat(depth)}1${'}'.repeat(depth)},"id":"x","kind":"invoke"}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function failure(input: string | Uint8Array, options?: Parameters<typeof decodeEnvelope>[1]): BatonError {
  const decoded = decodeEnvelope(input, options);
  if (decoded.ok) throw new Error('expected a rejection');
  return decoded.error;
}

describe('decodeEnvelope on hostile input', () => {
  it('refuses the nested-v message of issue 10 as too deep, without recursing', () => {
    const error = failure(deepObjectV(6_000));
    expect(error.code).toBe('ENVELOPE_INVALID');
    expect(error.details).toMatchObject({ reason: 'depth', max: MAX_ENVELOPE_DEPTH });
    expect(failure(Buffer.from(deepObjectV(6_000))).details?.reason).toBe('depth');
  });

  it('refuses a 100,000-deep payload and accepts one exactly at the limit', () => {
    const envelope = JSON.stringify(invokeEnvelope({ payload: null }));
    const withPayload = (raw: string) => envelope.replace('"payload":null', `"payload":${raw}`);
    expect(failure(withPayload(deepArray(100_000))).details?.reason).toBe('depth');
    // The envelope is level 1, so its payload may nest MAX_ENVELOPE_DEPTH - 1 levels.
    expect(decodeEnvelope(withPayload(deepArray(MAX_ENVELOPE_DEPTH - 1))).ok).toBe(true);
    expect(failure(withPayload(deepArray(MAX_ENVELOPE_DEPTH))).details?.reason).toBe('depth');
    expect(decodeEnvelope(withPayload(deepArray(200)), { maxDepth: 300 }).ok).toBe(true);
  });

  it('quotes nothing unbounded: huge strings, huge JSON errors, deep versions', () => {
    const hugeVersion = failure(JSON.stringify({ ...invokeEnvelope(), v: 'x'.repeat(500_000) }));
    expect(hugeVersion.details?.reason).toBe('version');
    expect(hugeVersion.message.length).toBeLessThan(300);
    expect(String(hugeVersion.details?.version).length).toBeLessThan(200);
    const arrayVersion = failure(JSON.stringify({ ...invokeEnvelope(), v: Array(100_000).fill(1) }));
    expect(arrayVersion.message).toContain('an array of 100000');
    const hugeId = failure(JSON.stringify({ ...invokeEnvelope(), id: 'i'.repeat(500_000) }));
    expect(hugeId.details?.reason).toBe('schema');
    expect(hugeId.message.length).toBeLessThan(1_200);
    const badJson = failure(`{"v":1,"id":"${'y'.repeat(500_000)}`);
    expect(badJson.details?.reason).toBe('json');
    expect(badJson.message.length).toBeLessThan(400);
  });

  it('types every other kind of garbage', () => {
    const wrongTypes = failure(
      JSON.stringify({ v: 1, id: 7, kind: [], contract: {}, from: null, to: 3, runId: false, budget: 'x' }),
    );
    expect(wrongTypes.details?.reason).toBe('schema');
    expect(failure(new Uint8Array(0)).details?.reason).toBe('json');
    expect(failure('').details?.reason).toBe('json');
    expect(failure(Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0xa0])).details?.reason).toBe('json');
    expect(failure('"\ud800"').details?.reason).toBe('schema');
    expect(failure('null').details?.reason).toBe('schema');
  });

  it('refuses oversize text before reading it when a limit is given', () => {
    const text = JSON.stringify(invokeEnvelope({ payload: { text: 'z'.repeat(5_000) } }));
    const error = failure(text, { maxBytes: 1_000 });
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.details).toMatchObject({ max: 1_000 });
    expect(failure(Buffer.from(text), { maxBytes: 1_000 }).code).toBe('PAYLOAD_TOO_LARGE');
    expect(decodeEnvelope(text, { maxBytes: 10_000 }).ok).toBe(true);
  });

  it('explainEnvelope never throws, whatever the value', () => {
    const deep = JSON.parse(deepArray(100_000));
    expect(() => explainEnvelope({ v: deep, payload: deep, budget: deep })).not.toThrow();
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new RangeError('Maximum call stack size exceeded');
        },
      },
    );
    expect(explainEnvelope(throwing)).toMatch(/cannot be checked/);
  });
});

describe('quote', () => {
  it('describes any value briefly', () => {
    expect(quote('short')).toBe('"short"');
    expect(quote('x'.repeat(1_000)).length).toBeLessThan(100);
    expect(quote(2)).toBe('2');
    expect(quote({ a: 1 })).toBe('an object');
    expect(quote([1, 2])).toBe('an array of 2');
    expect(quote(null)).toBe('null');
    expect(quote(10n ** 200n).length).toBeLessThan(120);
    expect(quote('\ud800')).toBe('"\\ud800"');
  });
});

function letterOf(overrides: Partial<Parameters<typeof makeDeadLetter>[0]> = {}): DeadLetter {
  const text = overrides.message?.string() ?? '{"v":1}';
  return makeDeadLetter({
    namespace: 'ns',
    agent: 'echo',
    instance: 'i-1',
    subject: 'baton.ns.control.kill',
    error: new BatonError('ENVELOPE_INVALID', 'bad'),
    message: { size: Buffer.byteLength(text), string: () => text },
    headers: undefined,
    ...overrides,
  });
}

describe('dead letters are bounded', () => {
  it('keeps a bounded sample of headers and counts the rest', () => {
    const headers: Record<string, string> = {};
    for (let index = 0; index < 1_000; index++) headers[`h-${index}`] = 'v'.repeat(10_000);
    headers['n'.repeat(5_000)] = 'long name';
    const letter = letterOf({ headers });
    expect(Object.keys(letter.headers ?? {})).toHaveLength(DEAD_LETTER_HEADER_LIMIT);
    expect(letter.headersDropped).toBe(1_001 - DEAD_LETTER_HEADER_LIMIT);
    for (const value of Object.values(letter.headers ?? {})) expect(value.length).toBeLessThan(1_100);
    expect(deadLetterSchema.safeParse(JSON.parse(JSON.stringify(letter))).success).toBe(true);
  });

  it('cuts the error message, hint and details, and survives details that cannot be serialized', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const big = letterOf({
      error: new BatonError('INTERNAL', 'm'.repeat(100_000), {
        hint: 'h'.repeat(10_000),
        details: { blob: 'd'.repeat(100_000) },
        cause: new BatonError('INTERNAL', 'c'.repeat(100_000), {
          cause: new BatonError('INTERNAL', 'deeper', { cause: new BatonError('INTERNAL', 'deepest') }),
        }),
      }),
    });
    expect(big.error.message.length).toBeLessThan(2_200);
    expect(big.error.hint?.length).toBeLessThan(600);
    expect(big.error.details).toMatchObject({ truncated: true });
    expect(JSON.stringify(big.error.details).length).toBeLessThan(1_300);
    expect(JSON.stringify(big).length).toBeLessThan(8_000);
    const odd = letterOf({ error: new BatonError('INTERNAL', 'x', { details: { cyclic } }) });
    expect(odd.error.details).toHaveProperty('unserializable');
    const deep = letterOf({
      error: new BatonError('INTERNAL', 'x', { details: JSON.parse(`{"a":${deepArray(20_000)}}`) }),
    });
    expect(deep.error.details).toHaveProperty('unserializable');
  });

  it('always fits the bus limit, even when escaping makes the data grow', () => {
    const controls = '\u0001'.repeat(200_000);
    const letter = letterOf({ message: { size: 200_000, string: () => controls } });
    expect(letter.truncated).toBe(true);
    expect(letter.data.length).toBe(DEAD_LETTER_DATA_LIMIT);
    // 16 KiB of control characters is 96 KiB once escaped.
    for (const max of [1_000_000, 64 * 1024, 20_000, 4_096]) {
      const json = serializeDeadLetter(letter, max);
      expect(Buffer.byteLength(json)).toBeLessThanOrEqual(max);
      const parsed = deadLetterSchema.parse(JSON.parse(json));
      expect(parsed.error.code).toBe('ENVELOPE_INVALID');
      if (max < 100_000) expect(parsed.truncated).toBe(true);
    }
    const mixed = '😀\u0000é'.repeat(6_000);
    const emoji = letterOf({ message: { size: Buffer.byteLength(mixed), string: () => mixed } });
    const json = serializeDeadLetter(emoji, 10_000);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(10_000);
    expect(JSON.parse(json).data.length).toBeGreaterThan(1_000);
  });
});

describe('DeadLetterThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rate-limits a flood and never drops silently: the count rides on the next dead letter', () => {
    const published: Array<{ n: number; suppressed: number }> = [];
    const throttle = new DeadLetterThrottle(
      (letter) => published.push({ n: Number(letter.data), suppressed: letter.suppressed ?? 0 }),
      {
        burst: 3,
        perSecond: 2,
        now: () => Date.now(),
      },
    );
    const offer = (n: number) =>
      throttle.offer((suppressed) => letterOf({ suppressed, message: { size: 1, string: () => String(n) } }));
    for (let n = 0; n < 10; n++) offer(n);
    expect(published).toEqual([
      { n: 0, suppressed: 0 },
      { n: 1, suppressed: 0 },
      { n: 2, suppressed: 0 },
    ]);
    expect(throttle.suppressed).toBe(7);
    // When the flood stops, the last message held back is published with the count of the others.
    vi.advanceTimersByTime(500);
    expect(published.at(-1)).toEqual({ n: 9, suppressed: 6 });
    expect(throttle.suppressed).toBe(0);
    vi.advanceTimersByTime(1_000);
    offer(10);
    expect(published.at(-1)).toEqual({ n: 10, suppressed: 0 });
    const accounted = published.reduce((sum, entry) => sum + 1 + entry.suppressed, 0);
    expect(accounted).toBe(11);
  });

  it('publishes what it holds back on close, and everything after it', () => {
    const published: DeadLetter[] = [];
    const throttle = new DeadLetterThrottle((letter) => published.push(letter), {
      burst: 1,
      now: () => Date.now(),
    });
    for (let n = 0; n < 5; n++) throttle.offer((suppressed) => letterOf({ suppressed }));
    expect(published).toHaveLength(1);
    throttle.close();
    expect(published).toHaveLength(2);
    expect(published[1]?.suppressed).toBe(3);
    throttle.offer((suppressed) => letterOf({ suppressed }));
    expect(published).toHaveLength(3);
  });
});

describe('WorkerGuard', () => {
  it('turns a throwing handler into a typed reply and a dead letter', async () => {
    const bus = new InProcessBus();
    const letters: string[] = [];
    bus.subscribe('baton.ns.dlq.echo', (message) => letters.push(message.string()));
    const replies: unknown[] = [];
    const guard = new WorkerGuard({
      bus,
      name: 'echo',
      namespace: 'ns',
      instance: 'i-1',
      sendReply: (_reply, envelope) => replies.push(envelope.payload),
    });
    const handler = guard.wrap(() => {
      throw new RangeError('Maximum call stack size exceeded');
    }, true);
    const message: BusMessage = {
      subject: 'baton.ns.control.kill',
      data: Buffer.from('{}'),
      size: 2,
      headers: undefined,
      reply: '_INBOX.x',
      string: () => '{}',
    };
    expect(() => handler(message)).not.toThrow();
    expect(BatonError.fromJSON(replies[0]).code).toBe('INTERNAL');
    await waitUntil(() => letters.length === 1, 'the dead letter');
    expect(JSON.parse(letters[0] as string).error.message).toMatch(/Maximum call stack/);
    guard.close();
    await bus.close();
  });
});

/** A handler that throws, even by overflowing the stack, leaves its subscription and the others reading. */
async function throwingHandlerKeepsReading(bus: Bus, reported: Array<{ error: unknown; subject: string }>) {
  const seen: string[] = [];
  const overflow = (depth: number): number => overflow(depth + 1) + 1;
  bus.subscribe('poison.a', (message) => {
    seen.push(`a:${message.string()}`);
    if (message.string() === 'throw') throw new Error('boom');
    if (message.string() === 'overflow') overflow(0);
  });
  bus.subscribe('poison.b', (message) => seen.push(`b:${message.string()}`));
  await bus.flush();
  for (const text of ['throw', 'overflow', 'after']) {
    bus.publish('poison.a', text);
    bus.publish('poison.b', text);
  }
  await bus.flush();
  await waitUntil(() => seen.length === 6, 'every message to arrive', 5_000);
  expect(seen.filter((entry) => entry.startsWith('a:'))).toEqual(['a:throw', 'a:overflow', 'a:after']);
  expect(reported.map((entry) => entry.subject)).toEqual(['poison.a', 'poison.a']);
  expect(reported[1]?.error).toBeInstanceOf(RangeError);
}

describe('transports never let a handler throw into their read loop', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ readyTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('InProcessBus', async () => {
    const reported: Array<{ error: unknown; subject: string }> = [];
    const bus = new InProcessBus({ onHandlerError: (error, subject) => reported.push({ error, subject }) });
    await throwingHandlerKeepsReading(bus, reported);
    await bus.close();
  });

  it('NatsBus', async () => {
    const reported: Array<{ error: unknown; subject: string }> = [];
    const bus = await NatsBus.connect({
      servers: server.url,
      onHandlerError: (error, subject) => reported.push({ error, subject }),
    });
    await throwingHandlerKeepsReading(bus, reported);
    // The request path shares the connection: it still answers.
    bus.subscribe('poison.echo', (message) => {
      if (message.reply) bus.publish(message.reply, message.data);
    });
    const reply = await bus.request('poison.echo', 'ping', { timeoutMs: 2_000 });
    expect(reply.string()).toBe('ping');
    await bus.close();
  });

  it('a listener that throws itself is contained too', async () => {
    const bus = await NatsBus.connect({
      servers: server.url,
      onHandlerError: () => {
        throw new Error('listener failed');
      },
    });
    const seen: string[] = [];
    bus.subscribe('poison.c', (message) => {
      seen.push(message.string());
      throw new Error('handler failed');
    });
    await bus.flush();
    bus.publish('poison.c', '1');
    bus.publish('poison.c', '2');
    await waitUntil(() => seen.length === 2, 'both messages', 5_000);
    await bus.close();
  });
});
