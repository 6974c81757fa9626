/**
 * r4: the poison-proof bus under fuzzing (issue 10). A worker process serves the echo agent on a real
 * nats-server; this process sends it a catalogue of hand-made hostile messages and 10,000 seeded random
 * mutations of valid messages on every subject a worker listens on (invoke, cancel, kill, registry
 * query), each as a request with a reply inbox. Every message the worker cannot act on must get a typed
 * error reply and a dead letter (or be counted in a later one by the control-subject rate limit); the
 * worker must stay alive, unkilled and serving, and a run in flight must not be touched by anything that
 * names it without the right to.
 *
 * Whether a message is hostile is decided here with the bus's own readers (`admit`, `decodeEnvelope`,
 * `killPayloadSchema`) and the same payload rules as the worker's control readers: a mutation that is
 * still a valid request is counted apart (`validByChance`) and must get the answer a valid request gets;
 * one that would still be a valid kill is not sent at all, since it would rightly kill the worker.
 */
import {
  admit,
  controlAckSchema,
  DEFAULT_MAX_HOPS,
  decodeEnvelope,
  ENVELOPE_KINDS,
  exceedsJsonDepth,
  listAgents,
  NatsBus,
  readCancel,
  readEnvelope,
  readKill,
  readRegistryQuery,
  remoteAgent,
  SYSTEM_CONTRACTS,
  subjects,
  watchDeadLetters,
} from '@baton/bus';
import { echoContract, startNatsServer } from '@baton/bus/testing';
import { BatonError, batonErrorJsonSchema, isErrorCode, type RunResult } from '@baton/core';
import { type ChaosProcess, startModule } from './processes.js';
import { prng } from './r8.js';
import { type ChaosScenario, scaled } from './scenario.js';

const NAMESPACE = 'chaos-r4';
const AGENT = 'echo';
/** The nesting of the message that silenced a namespace in issue 10. */
const NESTED_V_DEPTH = 6_000;
const DEEP_ARRAY_DEPTH = 100_000;
/** Requests in flight at once. */
const WINDOW = 32;
/** How long a request that must be answered may wait (a typed reply comes in well under a millisecond). */
const REPLY_TIMEOUT_MS = 5_000;
const SEED = 0x4_0000;

type SubjectKind = 'invoke' | 'cancel' | 'kill' | 'query';
const SUBJECT_KINDS: readonly SubjectKind[] = ['invoke', 'cancel', 'kill', 'query'];

/**
 * What the worker must do with a message: refuse it with a typed error, or (a valid message) run it and
 * reply with a result, answer with a heartbeat, or acknowledge a cancel or a kill meant for another
 * agent (`ack`); `kills` is never sent.
 */
type Expectation = 'error' | 'result' | 'heartbeat' | 'ack' | 'kills';

interface Message {
  kind: SubjectKind;
  subject: string;
  what: string;
  data: Uint8Array;
  crafted: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Fields = Record<string, Json>;

const utf8 = new TextDecoder();
const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** A random token usable in a subject (run ids become subject segments). */
function token(random: () => number, prefix: string): string {
  return `${prefix}${Math.floor(random() * 2 ** 32).toString(36)}${Math.floor(random() * 2 ** 32).toString(36)}`;
}

/** The valid message of each subject kind: what a caller, the kill switch or discovery would send. */
function baseMessage(kind: SubjectKind, random: () => number): { subject: string; fields: Fields } {
  const id = token(random, 'id');
  const common: Fields = {
    v: 1,
    id,
    kind: 'control',
    contract: SYSTEM_CONTRACTS.control,
    from: 'fuzzer',
    to: '*',
    runId: id,
    correlationId: id,
    causationId: null,
    deadline: null,
    budget: {},
    attempt: 1,
    hop: 0,
  };
  switch (kind) {
    case 'invoke': {
      const runId = token(random, 'run');
      return {
        subject: subjects.invoke(NAMESPACE, AGENT),
        fields: {
          ...common,
          kind: 'invoke',
          contract: echoContract.id,
          to: AGENT,
          runId,
          deadline: Date.now() + 3_600_000,
          payload: { text: 'fuzz' },
        },
      };
    }
    case 'cancel': {
      // A run that is not running: a mutation still valid cancels nothing.
      const runId = token(random, 'gone');
      return {
        subject: subjects.runCancel(NAMESPACE, runId),
        fields: {
          ...common,
          kind: 'cancel',
          contract: SYSTEM_CONTRACTS.cancel,
          to: AGENT,
          runId,
          payload: { reason: new BatonError('ABORTED', 'the fuzzer cancels').toJSON() as unknown as Json },
        },
      };
    }
    case 'kill':
      return {
        subject: subjects.kill(NAMESPACE),
        fields: { ...common, payload: { action: 'kill', reason: 'the fuzzer kills', at: Date.now() } },
      };
    case 'query':
      return {
        subject: subjects.registryQuery(NAMESPACE),
        fields: {
          ...common,
          contract: SYSTEM_CONTRACTS.registry,
          from: 'registry',
          payload: { action: 'discover', namespace: NAMESPACE },
        },
      };
  }
}

const SENTINEL = '"@@raw@@"';

/** `fields` as JSON with `field` set to raw text JSON.stringify could not write (deep, huge, odd numbers). */
function withRaw(fields: Fields, field: string, raw: string, at: 'first' | 'last' = 'first'): string {
  const rest: Fields = { ...fields };
  delete rest[field];
  const body = JSON.stringify(rest).slice(1, -1);
  const entry = `${JSON.stringify(field)}:${SENTINEL}`;
  const json = at === 'first' ? `{${entry},${body}}` : `{${body},${entry}}`;
  return json.replace(SENTINEL, () => raw);
}

/** `fields` with its payload as raw text, written last as a caller would. */
function withRawPayload(fields: Fields, raw: string): string {
  return withRaw(fields, 'payload', raw, 'last');
}

const nested = (depth: number, open: string, close: string, inner: string) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** Values of every JSON type and a few odd ones; each field gets those it does not accept. */
const WRONG_VALUES: ReadonlyArray<[string, string]> = [
  ['null', 'null'],
  ['true', 'true'],
  ['zero', '0'],
  ['a negative number', '-1'],
  ['a fraction', '1.5'],
  ['a number as a string', '"1"'],
  ['"NaN" as a string', '"NaN"'],
  ['an empty string', '""'],
  ['an empty array', '[]'],
  ['an empty object', '{}'],
  ['1e400 (Infinity once parsed)', '1e400'],
  ['2^53 + 2', '9007199254740994'],
];

const ENVELOPE_FIELDS = [
  'v',
  'id',
  'kind',
  'contract',
  'from',
  'to',
  'runId',
  'correlationId',
  'causationId',
  'deadline',
  'budget',
  'attempt',
  'hop',
] as const;

/** Hostile variants every subject must refuse: none of them is a readable envelope. */
function envelopeCatalogue(fields: Fields): Array<[string, string | Uint8Array]> {
  const json = JSON.stringify(fields);
  const cases: Array<[string, string | Uint8Array]> = [
    [`v nested ${NESTED_V_DEPTH} deep`, withRaw(fields, 'v', nested(NESTED_V_DEPTH, '{"v":', '}', '1'))],
    ['v nested just past the depth limit', withRaw(fields, 'v', nested(129, '{"v":', '}', '1'))],
    [
      `payload an array ${DEEP_ARRAY_DEPTH} deep`,
      withRawPayload(fields, nested(DEEP_ARRAY_DEPTH, '[', ']', '')),
    ],
    ['budget an object 10,000 deep', withRaw(fields, 'budget', nested(10_000, '{"a":', '}', '{}'))],
    ['id an array 5,000 deep', withRaw(fields, 'id', nested(5_000, '[', ']', '"x"'))],
    ['runId mixed arrays and objects 300 deep', withRaw(fields, 'runId', nested(150, '[{"x":', '}]', '1'))],
    ['id 40,000 brackets inside a string', withRaw(fields, 'id', JSON.stringify('['.repeat(40_000)))],
    ['v a 400 KB string', withRaw(fields, 'v', JSON.stringify('x'.repeat(400_000)))],
    ['id a 300 KB string', withRaw(fields, 'id', JSON.stringify('i'.repeat(300_000)))],
    ['contract a 500 KB string', withRaw(fields, 'contract', JSON.stringify('c'.repeat(500_000)))],
    ['from a 200 KB string', withRaw(fields, 'from', JSON.stringify('f'.repeat(200_000)))],
    ['kind a 900 KB string', withRaw(fields, 'kind', JSON.stringify('k'.repeat(900_000)))],
    [
      'runId 100,000 escaped control characters',
      withRaw(fields, 'runId', JSON.stringify('\u0001'.repeat(100_000))),
    ],
    ['v an array of 100,000 numbers', withRaw(fields, 'v', JSON.stringify(Array(100_000).fill(1)))],
    ['version 2', withRaw(fields, 'v', '2')],
    ['version 0', withRaw(fields, 'v', '0')],
    ['version "1"', withRaw(fields, 'v', '"1"')],
    ['version -1', withRaw(fields, 'v', '-1')],
    ['version 1e400', withRaw(fields, 'v', '1e400')],
    ['unknown kind "explode"', withRaw(fields, 'kind', '"explode"')],
    ['kind in capitals', withRaw(fields, 'kind', JSON.stringify(String(fields.kind).toUpperCase()))],
    ['expired deadline as a negative number', withRaw(fields, 'deadline', '-5')],
    ['deadline a fraction', withRaw(fields, 'deadline', '1.5')],
    ['deadline past 2^53', withRaw(fields, 'deadline', '9007199254740993')],
    ['attempt 0', withRaw(fields, 'attempt', '0')],
    ['hop -1', withRaw(fields, 'hop', '-1')],
    ['hop 2^60', withRaw(fields, 'hop', '1152921504606846976')],
    ['budget with negative tokens', withRaw(fields, 'budget', '{"tokens":-1}')],
    ['budget with "NaN" dollars', withRaw(fields, 'budget', '{"costUsd":"NaN"}')],
    ['budget with infinite steps', withRaw(fields, 'budget', '{"steps":1e400}')],
    ['budget with a fractional deadline', withRaw(fields, 'budget', '{"deadline":1.5}')],
    ['budget an array', withRaw(fields, 'budget', '[1,2,3]')],
    ['a later duplicate "v" of 2', withRaw(fields, 'v', '2', 'last').replace('{', '{"v":1,')],
    ['the fields only under "__proto__"', `{"__proto__":${json}}`],
    ['v missing, "__proto__" carrying it', withRaw(fields, '__proto__', '{"v":1}').replace('"v":1,', '')],
    [
      'a "constructor.prototype" key and a bad kind',
      withRaw(
        { ...fields, kind: 'polluted' },
        'constructor',
        '{"prototype":{"kind":"invoke","polluted":true}}',
      ),
    ],
    ['null', 'null'],
    ['an array holding the envelope', `[${json}]`],
    ['a number', '12345'],
    ['a string', '"baton"'],
    ['true', 'true'],
    ['an empty body', ''],
    ['whitespace only', ' \n\t '],
    ['a lone "{"', '{'],
    ['truncated in half', json.slice(0, Math.floor(json.length / 2))],
    ['missing its last brace', json.slice(0, -1)],
    ['an unterminated 500 KB string', `{"v":1,"id":"${'y'.repeat(500_000)}`],
    ['trailing garbage', `${json}}]]`],
    ['two envelopes back to back', `${json}${json}`],
    ['single quotes', json.replaceAll('"', "'")],
    ['a NaN literal', withRaw(fields, 'attempt', 'NaN')],
    ['an Infinity literal', withRaw(fields, 'hop', 'Infinity')],
    ['a comment', `/* hi */${json}`],
    ['a lone surrogate as the kind', withRaw(fields, 'kind', '"\\ud800"')],
    [
      'non-UTF-8 bytes between tokens',
      Uint8Array.from([0x7b, 0xc3, 0x28, 0xa0, 0xa1, ...bytes(json.slice(1))]),
    ],
    [
      'non-UTF-8 bytes only',
      Uint8Array.from([0xff, 0xfe, 0xfd, 0xc3, 0x28, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]),
    ],
    ['a UTF-16 byte order mark', Uint8Array.from([0xfe, 0xff, ...bytes(json)])],
    ['NUL bytes', Uint8Array.from([0, 0, 0, ...bytes(json), 0])],
  ];
  for (const field of ENVELOPE_FIELDS) {
    const rest: Fields = { ...fields };
    delete rest[field];
    cases.push([`${field} missing`, JSON.stringify(rest)]);
    for (const [name, raw] of WRONG_VALUES) {
      // Only values the field does not accept: this catalogue is about what must be refused.
      const text = withRaw(fields, field, raw);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined && readEnvelope(parsed)) continue;
      cases.push([`${field} ${name}`, text]);
    }
  }
  return cases;
}

/** Valid envelopes with something wrong for this subject: the wrong kind, an unknown contract, a bad payload. */
function semanticCatalogue(kind: SubjectKind, fields: Fields, longRunId: string): Array<[string, string]> {
  const cases: Array<[string, string]> = [];
  const variant = (what: string, changes: Fields) =>
    cases.push([what, JSON.stringify({ ...fields, ...changes })]);
  const right = kind === 'kill' || kind === 'query' ? 'control' : kind;
  for (const other of ENVELOPE_KINDS)
    if (other !== right) variant(`a valid "${other}" envelope`, { kind: other });
  switch (kind) {
    case 'invoke':
      variant('addressed to another agent', { to: 'someone-else' });
      variant('addressed to nobody', { to: '' });
      variant('an unknown contract', { contract: 'nope@1' });
      variant('contract version 2', { contract: 'test.echo@2' });
      variant('a contract with no version', { contract: 'test.echo' });
      variant('contract version 0', { contract: 'test.echo@0' });
      variant('one hop past the limit', { hop: DEFAULT_MAX_HOPS + 1 });
      variant('a thousand hops', { hop: 1_000 });
      variant('a deadline at the epoch', { deadline: 1 });
      variant('a deadline a second ago', { deadline: Date.now() - 1_000 });
      variant('a null payload', { payload: null });
      variant('an array payload', { payload: [] });
      variant('a string payload', { payload: 'text' });
      variant('an empty payload', { payload: {} });
      variant('text a number', { payload: { text: 5 } });
      variant('a negative delay', { payload: { text: 'x', delayMs: -1 } });
      variant('a delay as a string', { payload: { text: 'x', delayMs: '5' } });
      variant('a fractional delay', { payload: { text: 'x', delayMs: 1.5 } });
      cases.push(['a delay of 1e400', withRawPayload(fields, '{"text":"x","delayMs":1e400}')]);
      cases.push([
        'text only under "__proto__"',
        withRawPayload(fields, '{"__proto__":{"text":"polluted"}}'),
      ]);
      cases.push([
        'text only under "constructor.prototype"',
        withRawPayload(fields, '{"constructor":{"prototype":{"text":"polluted"}}}'),
      ]);
      cases.push(['a payload 120 objects deep', withRawPayload(fields, nested(120, '{"a":', '}', '1'))]);
      break;
    case 'cancel':
      variant('a cancel naming the run in flight, on another run’s subject', { runId: longRunId });
      variant('a reason that is a string', { payload: { reason: 'stop' } });
      variant('a reason with a numeric code', { payload: { reason: { code: 5 } } });
      variant('a reason with an unknown category', {
        payload: {
          reason: { name: 'BatonError', code: 'ABORTED', category: 'bogus', message: 'm', retryable: false },
        },
      });
      variant('an array payload', { payload: [] });
      variant('a string payload', { payload: 'stop' });
      variant('a numeric payload', { payload: 5 });
      cases.push([
        'a reason with a cause chain 100 deep and "retryable" a string',
        withRawPayload(
          fields,
          `{"reason":${nested(100, '{"name":"BatonError","code":"ABORTED","category":"system","message":"m","retryable":"no","cause":', '}', '{"message":"m"}')}}`,
        ),
      ]);
      cases.push([
        'the reason only under "__proto__"',
        withRawPayload(fields, '{"reason":{"__proto__":{"code":"ABORTED"}}}'),
      ]);
      break;
    case 'kill':
      variant('a null payload', { payload: null });
      variant('an array payload', { payload: [] });
      variant('an empty payload', { payload: {} });
      variant('action "kil"', { payload: { action: 'kil', reason: 'x', at: 1 } });
      variant('no reason', { payload: { action: 'kill', at: 1 } });
      variant('a numeric reason', { payload: { action: 'kill', reason: 5, at: 1 } });
      variant('"at" a string', { payload: { action: 'kill', reason: 'x', at: 'now' } });
      variant('"at" "NaN"', { payload: { action: 'kill', reason: 'x', at: 'NaN' } });
      variant('a numeric agent', { payload: { action: 'kill', reason: 'x', at: 1, agent: 7 } });
      variant('a 500 KB reason and no time', { payload: { action: 'kill', reason: 'r'.repeat(500_000) } });
      cases.push([
        'the whole kill under "__proto__"',
        withRawPayload(fields, '{"__proto__":{"action":"kill","reason":"x","at":1}}'),
      ]);
      cases.push([
        'the kill under "constructor" and a bad action',
        withRawPayload(fields, '{"constructor":{"action":"kill"},"action":"explode","reason":"x","at":1}'),
      ]);
      cases.push(['"at" 1e400', withRawPayload(fields, '{"action":"kill","reason":"x","at":1e400}')]);
      break;
    case 'query':
      variant('the kill switch contract', { contract: SYSTEM_CONTRACTS.control });
      variant('an unknown contract', { contract: 'nope@1' });
      variant('action "explode"', { payload: { action: 'explode' } });
      variant('a null payload', { payload: null });
      variant('an array payload', { payload: [] });
      variant('an empty payload', { payload: {} });
      variant('action an array', { payload: { action: ['discover'] } });
      cases.push([
        'the action only under "__proto__"',
        withRawPayload(fields, '{"__proto__":{"action":"discover"}}'),
      ]);
      break;
  }
  return cases;
}

/** What the worker will do with `data` on `subject`, decided with the bus's own readers. */
function expectationOf(kind: SubjectKind, subject: string, data: Uint8Array, maxBytes: number): Expectation {
  const text = utf8.decode(data);
  const received = { subject, size: data.byteLength, headers: undefined, string: () => text };
  if (kind === 'invoke') {
    const admission = admit(
      received,
      { agent: AGENT, contract: echoContract, maxPayload: maxBytes, maxHops: DEFAULT_MAX_HOPS },
      Date.now(),
    );
    return admission.ok ? 'result' : 'error';
  }
  if (kind === 'cancel') return readCancel(received, maxBytes).ok ? 'ack' : 'error';
  if (kind === 'kill') {
    const kill = readKill(received, maxBytes);
    if (!kill.ok) return 'error';
    return kill.value.agent === undefined || kill.value.agent === AGENT ? 'kills' : 'ack';
  }
  return readRegistryQuery(received, maxBytes).ok ? 'heartbeat' : 'error';
}

// ---- Mutations ----------------------------------------------------------------------------------

type Random = () => number;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, 0, items.length - 1)] as T;

/** Keys random objects may have; never `delayMs`, so a mutation that stays valid cannot make echo sleep. */
const RANDOM_KEYS = ['a', 'text', 'v', 'kind', 'reason', 'action', 'agent', '__proto__', 'constructor', 'x1'];

function typeOf(value: Json | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function randomJson(random: Random, depth: number, not?: string): Json {
  for (;;) {
    const type = pick(random, ['null', 'boolean', 'number', 'string', 'array', 'object']);
    if (type === not) continue;
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return random() < 0.5;
      case 'number':
        return pick(random, [
          0,
          -1,
          1.5,
          2 ** 53 + 2,
          -(2 ** 31),
          1e308,
          Number.MIN_VALUE,
          int(random, -1e6, 1e6),
        ]);
      case 'string':
        return pick(random, [
          '',
          'NaN',
          '-1',
          '1e400',
          'invoke',
          'control',
          'cancel',
          'x'.repeat(int(random, 1, 600)),
          '\u0000',
          '\ud800',
        ]);
      case 'array':
        return depth > 2
          ? []
          : Array.from({ length: int(random, 0, 3) }, () => randomJson(random, depth + 1));
      default: {
        const object: { [key: string]: Json } = {};
        if (depth <= 2)
          for (let n = int(random, 0, 3); n > 0; n--)
            object[pick(random, RANDOM_KEYS)] = randomJson(random, depth + 1);
        return object;
      }
    }
  }
}

/** Paths to every value of an envelope down to its payload's fields. */
function pathsOf(value: Json, prefix: string[] = [], depth = 0): string[][] {
  if (depth > 3 || value === null || typeof value !== 'object') return [];
  const paths: string[][] = [];
  for (const key of Object.keys(value)) {
    const path = [...prefix, key];
    paths.push(path);
    paths.push(...pathsOf((value as Record<string, Json>)[key] as Json, path, depth + 1));
  }
  return paths;
}

function getAt(root: Json, path: string[]): Json | undefined {
  let node: Json | undefined = root;
  for (const key of path)
    node = node !== null && typeof node === 'object' ? (node as Record<string, Json>)[key] : undefined;
  return node;
}

function setAt(root: Json, path: string[], value: Json | undefined): void {
  let node = root as Record<string, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, Json>;
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** How deep a deepened field becomes: mostly shallow, sometimes past the decoder's limit, now and then far past. */
function deepening(random: Random): number {
  const roll = random();
  if (roll < 0.6) return int(random, 1, 20);
  if (roll < 0.9) return int(random, 100, 140);
  return int(random, 1_000, 8_000);
}

/** A value-level change of an envelope; returns its JSON text (deepening needs raw text). */
function mutateValue(random: Random, fields: Fields): string {
  const paths = pathsOf(fields);
  const path = pick(random, paths);
  const op = random();
  if (op < 0.55) {
    setAt(fields, path, randomJson(random, 0, typeOf(getAt(fields, path))));
    return JSON.stringify(fields);
  }
  if (op < 0.7) {
    setAt(fields, path, undefined);
    return JSON.stringify(fields);
  }
  const depth = deepening(random);
  const inner = JSON.stringify(getAt(fields, path) ?? null);
  const [open, close] = random() < 0.5 ? ['[', ']'] : ['{"d":', '}'];
  setAt(fields, path, '@@raw@@');
  return JSON.stringify(fields).replace(SENTINEL, () => nested(depth, open, close, inner));
}

/** A byte-level change: flip, insert, delete, duplicate or truncate. */
function mutateBytes(random: Random, data: Uint8Array): Uint8Array {
  const length = data.byteLength;
  const at = int(random, 0, Math.max(0, length - 1));
  const op = random();
  if (op < 0.3 && length > 0) {
    const copy = Uint8Array.from(data);
    copy[at] = (copy[at] as number) ^ (1 << int(random, 0, 7));
    return copy;
  }
  if (op < 0.5) {
    const inserted = Array.from({ length: int(random, 1, 4) }, () =>
      random() < 0.5
        ? int(random, 0, 255)
        : (pick(random, ['{', '}', '[', ']', '"', ',', ':', '\\']) as string).charCodeAt(0),
    );
    return Uint8Array.from([...data.subarray(0, at), ...inserted, ...data.subarray(at)]);
  }
  if (op < 0.7) return Uint8Array.from([...data.subarray(0, at), ...data.subarray(at + int(random, 1, 8))]);
  if (op < 0.8) {
    const end = Math.min(length, at + int(random, 1, 40));
    return Uint8Array.from([...data.subarray(0, end), ...data.subarray(at, end), ...data.subarray(end)]);
  }
  return data.subarray(0, at);
}

function mutation(random: Random, index: number): Message {
  const kind = SUBJECT_KINDS[index % SUBJECT_KINDS.length] as SubjectKind;
  const { subject, fields } = baseMessage(kind, random);
  const valueOps = int(random, 0, 2);
  const byteOps = valueOps === 0 ? int(random, 1, 2) : int(random, 0, 1);
  let text = JSON.stringify(fields);
  for (let op = 0; op < valueOps; op++) {
    // Deepened past what this process's own recursive JSON.stringify survives: no further value changes.
    if (exceedsJsonDepth(text, 1_000)) break;
    let current: Fields;
    try {
      current = JSON.parse(text) as Fields;
    } catch {
      break;
    }
    text = mutateValue(random, current);
  }
  let data = bytes(text);
  for (let op = 0; op < byteOps; op++) data = mutateBytes(random, data);
  return { kind, subject, what: `mutation ${index}`, data, crafted: false };
}

// ---- Sending and judging replies ----------------------------------------------------------------

interface Tally {
  requests: number;
  crafted: number;
  mutated: number;
  typedReplies: number;
  typedByKind: Record<SubjectKind, number>;
  validByChance: Record<SubjectKind, number>;
  skippedValidKills: number;
  craftedNotHostile: string[];
  codes: Record<string, number>;
  /** Messages whose answer was not the one expected (a result for a refused message, no reply, ...). */
  unexpected: number;
  unexpectedExamples: string[];
  nestedV: Record<SubjectKind, 'typed' | 'not sent' | string>;
}

/** `ok` when the reply is an error envelope carrying a BatonError with a known code; else what it is. */
function readTypedError(
  data: Uint8Array,
): { ok: true; code: string; reason: unknown } | { ok: false; what: string } {
  const decoded = decodeEnvelope(data);
  if (!decoded.ok) return { ok: false, what: `an unreadable reply (${decoded.error.message.slice(0, 80)})` };
  const envelope = decoded.envelope;
  if (envelope.kind !== 'error') return { ok: false, what: `a "${envelope.kind}" reply` };
  const parsed = batonErrorJsonSchema.safeParse(envelope.payload);
  if (!parsed.success || !isErrorCode(parsed.data.code))
    return { ok: false, what: 'an error reply without a known code' };
  const error = BatonError.fromJSON(envelope.payload);
  if (error.code !== parsed.data.code) return { ok: false, what: `code ${parsed.data.code}` };
  return { ok: true, code: error.code, reason: error.details?.reason };
}

async function send(bus: NatsBus, message: Message, tally: Tally): Promise<void> {
  const expected = expectationOf(message.kind, message.subject, message.data, bus.maxPayload);
  if (expected === 'kills') {
    tally.skippedValidKills++;
    if (message.crafted) tally.craftedNotHostile.push(`${message.what} on ${message.kind} would kill`);
    return;
  }
  tally.requests++;
  if (message.crafted) tally.crafted++;
  else tally.mutated++;
  if (expected !== 'error') {
    tally.validByChance[message.kind]++;
    if (message.crafted)
      tally.craftedNotHostile.push(`${message.what} on ${message.kind} is valid (${expected})`);
  }
  const isNestedV = message.crafted && message.what.startsWith(`v nested ${NESTED_V_DEPTH}`);
  const wrong = (what: string) => {
    tally.unexpected++;
    if (tally.unexpectedExamples.length < 12) {
      const head = utf8.decode(message.data.subarray(0, 160)).replaceAll('\n', ' ');
      tally.unexpectedExamples.push(
        `${message.what} on ${message.subject}: expected ${expected}, got ${what}; data: ${head}`,
      );
    }
    if (isNestedV) tally.nestedV[message.kind] = what;
  };
  let reply: Awaited<ReturnType<NatsBus['request']>>;
  try {
    reply = await bus.request(message.subject, message.data, { timeoutMs: REPLY_TIMEOUT_MS });
  } catch (error) {
    const code = error instanceof BatonError ? error.code : String(error);
    wrong(`no reply (${code})`);
    return;
  }
  if (expected === 'ack') {
    const decoded = decodeEnvelope(reply.data);
    const ack =
      decoded.ok && decoded.envelope.kind === 'control'
        ? controlAckSchema.safeParse(decoded.envelope.payload)
        : undefined;
    if (!ack?.success || ack.data.applied) wrong('no acknowledgement that did nothing');
    return;
  }
  if (expected === 'error') {
    const typed = readTypedError(reply.data);
    if (!typed.ok) {
      wrong(typed.what);
      return;
    }
    tally.typedReplies++;
    tally.typedByKind[message.kind]++;
    const label = typeof typed.reason === 'string' ? `${typed.code}/${typed.reason}` : typed.code;
    tally.codes[label] = (tally.codes[label] ?? 0) + 1;
    if (isNestedV) tally.nestedV[message.kind] = 'typed';
    return;
  }
  const decoded = decodeEnvelope(reply.data);
  const kind = decoded.ok ? decoded.envelope.kind : 'unreadable';
  if (kind !== expected) {
    // Two valid invocations with the same run id at once: the second is refused, typed.
    const typed = readTypedError(reply.data);
    if (!(expected === 'result' && typed.ok && typed.code === 'DUPLICATE')) wrong(`a "${kind}" reply`);
  }
}

/**
 * Sends every message with at most WINDOW in flight. `onSent` is called once the last message has gone
 * out, with the moment it did, while replies to the last ones may still be on their way.
 */
async function sendAll(
  bus: NatsBus,
  messages: Iterator<Message>,
  tally: Tally,
  onSent: (lastSentAt: number) => void = () => undefined,
): Promise<void> {
  let lastSentAt = performance.now();
  let exhausted = false;
  const lane = async () => {
    for (;;) {
      const next = messages.next();
      if (next.done) {
        if (!exhausted) {
          exhausted = true;
          onSent(lastSentAt);
        }
        return;
      }
      lastSentAt = performance.now();
      await send(bus, next.value, tally);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
}

function* craftedMessages(longRunId: string): Generator<Message> {
  const random = prng(SEED - 1);
  for (const kind of SUBJECT_KINDS) {
    const { subject, fields } = baseMessage(kind, random);
    const cases: Array<[string, string | Uint8Array]> = [
      ...envelopeCatalogue(fields),
      ...semanticCatalogue(kind, fields, longRunId),
    ];
    for (const [what, data] of cases) {
      yield { kind, subject, what, data: typeof data === 'string' ? bytes(data) : data, crafted: true };
    }
    if (kind === 'cancel') {
      // A bad cancel on the subject of the run in flight itself: refused, and the run goes on.
      const onRun = subjects.runCancel(NAMESPACE, longRunId);
      const cancel = JSON.stringify({ ...fields, runId: longRunId, payload: { reason: 'stop' } });
      yield {
        kind,
        subject: onRun,
        what: 'a bad cancel on the subject of the run in flight',
        data: bytes(cancel),
        crafted: true,
      };
      yield {
        kind,
        subject: onRun,
        what: `v nested ${NESTED_V_DEPTH} deep on the subject of the run in flight`,
        data: bytes(withRaw({ ...fields, runId: longRunId }, 'v', nested(NESTED_V_DEPTH, '{"v":', '}', '1'))),
        crafted: true,
      };
    }
  }
}

function* mutatedMessages(count: number, tally: Tally): Generator<Message> {
  const random = prng(SEED);
  // Mutations that would still kill are not sent; more are drawn so that `count` are.
  for (let index = 0; tally.mutated < count && index < count * 2; index++) {
    yield mutation(random, index);
  }
}

export const r4: ChaosScenario = {
  key: 'r4',
  description:
    'fuzz a worker process on NATS (crafted + 10,000 mutated messages on invoke/cancel/kill/registry): typed replies, dead letters, still serving',
  async run(options) {
    const mutations = scaled(options, 10_000, 500);
    const server = await startNatsServer();
    let worker: ChaosProcess | undefined;
    let bus: NatsBus | undefined;
    try {
      worker = startModule('r4-worker.js', [server.url, NAMESPACE]);
      bus = await NatsBus.connect({ servers: server.url, name: 'chaos-r4-fuzzer' });
      await worker.waitFor(/^READY /);
      const echo = remoteAgent(bus, {
        name: AGENT,
        contract: echoContract,
        namespace: NAMESPACE,
        timeoutMs: 600_000,
      });

      let letters = 0;
      let suppressed = 0;
      // Control subjects share one rate limit per worker, so their suppressed counts are only known together.
      const lettersBySubject = { invoke: 0, control: 0 };
      let largestDeadLetterBytes = 0;
      const watcher = watchDeadLetters(bus, { namespace: NAMESPACE, agent: AGENT }, (letter) => {
        letters++;
        suppressed += letter.suppressed ?? 0;
        if (letter.subject.endsWith('.invoke')) lettersBySubject.invoke++;
        else lettersBySubject.control += 1 + (letter.suppressed ?? 0);
        largestDeadLetterBytes = Math.max(
          largestDeadLetterBytes,
          Buffer.byteLength(JSON.stringify(letter), 'utf8'),
        );
      });
      await bus.flush();

      // A run in flight: a hostile cancel or kill that acted would end it early.
      const controller = new AbortController();
      const longRunId = `inflight${Date.now().toString(36)}`;
      let longEndedEarly = false;
      let fuzzing = true;
      const long = echo
        .run({ text: 'long', delayMs: 600_000 }, { runId: longRunId, signal: controller.signal })
        .then((result) => {
          if (fuzzing) longEndedEarly = true;
          return result;
        });
      const started = Date.now();
      while ((await listAgents(bus, { namespace: NAMESPACE, timeoutMs: 100 }))[0]?.inFlight !== 1) {
        if (Date.now() - started > 10_000) throw new Error('the long run did not start on the worker');
      }

      const tally: Tally = {
        requests: 0,
        crafted: 0,
        mutated: 0,
        typedReplies: 0,
        typedByKind: { invoke: 0, cancel: 0, kill: 0, query: 0 },
        validByChance: { invoke: 0, cancel: 0, kill: 0, query: 0 },
        skippedValidKills: 0,
        craftedNotHostile: [],
        codes: {},
        unexpected: 0,
        unexpectedExamples: [],
        nestedV: { invoke: 'not sent', cancel: 'not sent', kill: 'not sent', query: 'not sent' },
      };
      const fuzzStarted = performance.now();
      await sendAll(bus, craftedMessages(longRunId), tally);
      options.log(`crafted: ${tally.crafted} sent, ${tally.typedReplies} typed replies`);
      // The valid call goes out as soon as the last hostile message has, while the worker may still be
      // busy with the last of them: the time is counted from that message.
      let lastHostileAt = 0;
      let validCall: Promise<{ result: RunResult; at: number }> = Promise.reject(new Error('never sent'));
      validCall.catch(() => undefined);
      await sendAll(bus, mutatedMessages(mutations, tally), tally, (at) => {
        lastHostileAt = at;
        validCall = echo.run({ text: 'still here' }).then((result) => ({ result, at: performance.now() }));
      });
      options.log(
        `mutated: ${tally.mutated} sent in ${((performance.now() - fuzzStarted) / 1000).toFixed(1)} s`,
      );
      const { result: served, at: servedAt } = await validCall;
      fuzzing = false;
      const workerServedAfterMs = Math.round(servedAt - lastHostileAt);

      // Every refusal is a dead letter or counted in a later one; the rate limit releases the last held back.
      const refused = tally.typedReplies;
      const waitStarted = Date.now();
      while (letters + suppressed < refused && Date.now() - waitStarted < 15_000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      watcher.unsubscribe();

      const found = await listAgents(bus, { namespace: NAMESPACE, timeoutMs: 500 });
      const alive = worker.child.exitCode === null && worker.child.signalCode === null;
      controller.abort(new BatonError('ABORTED', 'the fuzzing is over'));
      const longResult = await long;
      const handlerErrors = worker.lines.filter((line) => line.startsWith('HANDLER_ERROR ')).length;
      const figures = {
        crafted: tally.crafted,
        mutated: tally.mutated,
        typedReplies: tally.typedReplies,
        deadLetters: letters,
        workerServedAfterMs,
        mutationTarget: mutations,
        requests: tally.requests,
        expectedTypedReplies: tally.requests - Object.values(tally.validByChance).reduce((a, b) => a + b, 0),
        validByChance: tally.validByChance,
        skippedValidKills: tally.skippedValidKills,
        suppressed,
        deadLettersAccounted: letters + suppressed,
        refused,
        typedByKind: tally.typedByKind,
        deadLettersBySubject: lettersBySubject,
        largestDeadLetterBytes,
        maxPayload: bus.maxPayload,
        nestedV: tally.nestedV,
        codes: tally.codes,
        unexpected: tally.unexpected,
        unexpectedExamples: tally.unexpectedExamples,
        craftedNotHostile: tally.craftedNotHostile,
        validCall: served.status,
        workerAlive: alive,
        workerKilled: found.length === 1 ? found[0]?.killed : `${found.length} instances answered`,
        workerHandlerErrors: handlerErrors,
        runInFlightSurvived: !longEndedEarly && longResult.status === 'aborted',
        runInFlightStatus: longResult.status,
        fuzzSeconds: Math.round((servedAt - fuzzStarted) / 100) / 10,
      };
      options.log(
        `${figures.requests} requests: ${figures.typedReplies} typed replies of ${figures.expectedTypedReplies} expected, ${figures.deadLetters} dead letters + ${suppressed} suppressed of ${refused}; valid call ${served.status} ${workerServedAfterMs} ms after the last hostile message`,
      );
      for (const example of tally.unexpectedExamples) options.log(`  unexpected: ${example}`);
      return figures;
    } finally {
      await bus?.close();
      await worker?.stop();
      await server.stop();
    }
  },
  check(f) {
    const problems: string[] = [];
    if ((f.crafted as number) < 200) problems.push(`only ${f.crafted} crafted messages (≥ 200)`);
    const nestedV = f.nestedV as Record<string, string>;
    for (const kind of SUBJECT_KINDS) {
      if (nestedV[kind] !== 'typed') problems.push(`the nested-v message on ${kind}: ${nestedV[kind]}`);
    }
    if ((f.mutated as number) < (f.mutationTarget as number))
      problems.push(`only ${f.mutated} of ${f.mutationTarget} mutations sent`);
    if (f.typedReplies !== f.expectedTypedReplies) {
      problems.push(`${f.typedReplies} typed replies for ${f.expectedTypedReplies} hostile requests`);
    }
    if (f.unexpected !== 0) problems.push(`${f.unexpected} messages got an unexpected answer`);
    if ((f.craftedNotHostile as string[]).length > 0)
      problems.push(`crafted but not hostile: ${(f.craftedNotHostile as string[]).join('; ')}`);
    if (f.deadLettersAccounted !== f.refused) {
      problems.push(
        `dead letters + suppressed = ${f.deadLettersAccounted} for ${f.refused} refused messages`,
      );
    }
    const byKind = f.typedByKind as Record<SubjectKind, number>;
    const bySubject = f.deadLettersBySubject as { invoke: number; control: number };
    if (bySubject.invoke !== byKind.invoke) {
      problems.push(`${bySubject.invoke} dead letters for ${byKind.invoke} refused invocations`);
    }
    if ((f.largestDeadLetterBytes as number) > (f.maxPayload as number)) {
      problems.push(`a dead letter of ${f.largestDeadLetterBytes} bytes (bus limit ${f.maxPayload})`);
    }
    if (f.validCall !== 'completed') problems.push(`the valid call after the fuzzing ended ${f.validCall}`);
    if ((f.workerServedAfterMs as number) >= 2_000)
      problems.push(
        `a valid call was served ${f.workerServedAfterMs} ms after the last hostile message (goal < 2,000)`,
      );
    if (f.workerAlive !== true) problems.push('the worker process died');
    if (f.workerKilled !== false) problems.push(`the worker's heartbeat says killed: ${f.workerKilled}`);
    if (f.workerHandlerErrors !== 0)
      problems.push(`${f.workerHandlerErrors} handler errors reached the bus in the worker`);
    if (f.runInFlightSurvived !== true)
      problems.push(`the run in flight ended ${f.runInFlightStatus} before the fuzzing was over`);
    return problems;
  },
};
