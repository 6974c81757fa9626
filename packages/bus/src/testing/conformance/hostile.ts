import assert from 'node:assert/strict';
import { BatonError, isErrorCode } from '@baton/core';
import { remoteAgent } from '../../agent/remote.js';
import { serveAgent } from '../../agent/serve.js';
import { DEAD_LETTER_DATA_LIMIT, type DeadLetter, watchDeadLetters } from '../../dead-letter.js';
import { decodeEnvelope, type Envelope, SYSTEM_CONTRACTS } from '../../envelope.js';
import { killSwitch } from '../../kill.js';
import { listAgents } from '../../registry.js';
import { subjects } from '../../subjects.js';
import { echoAgent, echoContract, invokeEnvelope } from '../agents.js';
import { bytes, type ConformanceCase, waitUntil } from './context.js';

/** The nesting that silenced a namespace in issue 10, and a deeper one than any stack survives. */
const NESTED_V_DEPTH = 6_000;
const DEEP_ARRAY_DEPTH = 100_000;

interface Hostile {
  what: string;
  data: Uint8Array;
  /** `details.reason` the typed error must carry, when the case is about one. */
  reason?: string;
}

/** `envelope` as JSON with the text of `field` replaced by `raw` (which JSON.stringify could not write). */
function withRawField(envelope: Envelope, field: keyof Envelope, raw: string): string {
  const rest: Record<string, unknown> = { ...envelope };
  delete rest[field];
  return `{${JSON.stringify(field)}:${raw},${JSON.stringify(rest).slice(1)}`;
}

/**
 * Hostile variants of a valid message of one subject: each must be refused with a typed error and a
 * dead letter, and none may act (the valid original would cancel, kill or run something).
 */
function hostileVariants(valid: Envelope, wrongKind: Envelope, badPayload: Envelope): Hostile[] {
  const json = (value: unknown) => bytes(JSON.stringify(value));
  return [
    {
      what: `v nested ${NESTED_V_DEPTH} deep`,
      data: bytes(
        withRawField(valid, 'v', `${'{"v":'.repeat(NESTED_V_DEPTH)}1${'}'.repeat(NESTED_V_DEPTH)}`),
      ),
      reason: 'depth',
    },
    {
      what: `payload an array ${DEEP_ARRAY_DEPTH} deep`,
      data: bytes(
        withRawField(valid, 'payload', `${'['.repeat(DEEP_ARRAY_DEPTH)}${']'.repeat(DEEP_ARRAY_DEPTH)}`),
      ),
      reason: 'depth',
    },
    {
      what: 'a 400 KB string as the version',
      data: json({ ...valid, v: 'x'.repeat(400_000) }),
      reason: 'version',
    },
    {
      what: 'a 300 KB string as the id',
      data: json({ ...valid, id: 'i'.repeat(300_000) }),
      reason: 'schema',
    },
    {
      what: 'wrong types everywhere',
      data: json({
        v: 1,
        id: 7,
        kind: ['invoke'],
        contract: { name: 'x' },
        from: null,
        to: 3,
        runId: false,
        correlationId: [[[]]],
        causationId: 5,
        deadline: 'soon',
        budget: 'all of it',
        attempt: '1',
        hop: -1,
      }),
      reason: 'schema',
    },
    {
      what: 'bytes that are not UTF-8',
      data: Uint8Array.from([
        ...bytes('{"v":1,"id":"'),
        0xc3,
        0x28,
        0xa0,
        0xa1,
        0xe2,
        0x28,
        0xa1,
        0xf0,
        0x28,
        0x8c,
        0xbc,
        0xff,
        0xfe,
        ...bytes('"}'),
      ]),
    },
    { what: 'an empty body', data: new Uint8Array(0), reason: 'json' },
    { what: 'a valid envelope of the wrong kind', data: json(wrongKind) },
    { what: 'a valid envelope with an invalid payload', data: json(badPayload) },
  ];
}

function systemMessage(fields: Partial<Envelope>): Envelope {
  return invokeEnvelope({ deadline: null, budget: {}, from: 'hostile', to: '*', ...fields });
}

export const hostileConformance: ConformanceCase[] = [
  {
    name: 'hostile messages on invoke, cancel, kill and registry subjects: typed replies, dead letters, nothing acts, the worker keeps serving',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      defer(() => served.stop());
      const letters: DeadLetter[] = [];
      const letterSizes: number[] = [];
      const watcher = watchDeadLetters(caller, { namespace, agent: 'echo' }, (letter) => {
        letters.push(letter);
        letterSizes.push(Buffer.byteLength(JSON.stringify(letter), 'utf8'));
      });
      defer(() => watcher.unsubscribe());
      await caller.flush();

      // A run in flight: a hostile cancel or kill that acted would abort it.
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const controller = new AbortController();
      const runId = `long${Date.now().toString(36)}`;
      const long = remote.run({ text: 'long', delayMs: 30_000 }, { runId, signal: controller.signal });
      await waitUntil(() => agent.observed.active === 1, 'the long run to start');

      const cancel = systemMessage({
        kind: 'cancel',
        contract: SYSTEM_CONTRACTS.cancel,
        runId,
        to: 'echo',
        payload: { reason: new BatonError('ABORTED', 'hostile cancel').toJSON() },
      });
      const kill = systemMessage({
        kind: 'control',
        contract: SYSTEM_CONTRACTS.control,
        payload: { action: 'kill', reason: 'hostile kill', at: Date.now() },
      });
      const query = systemMessage({
        kind: 'control',
        contract: SYSTEM_CONTRACTS.registry,
        payload: { action: 'discover', namespace },
      });
      const invoke = invokeEnvelope({ payload: { text: 'hostile' } });
      const targets = [
        {
          subject: subjects.invoke(namespace, 'echo'),
          control: false,
          cases: hostileVariants(invoke, { ...invoke, kind: 'event' }, { ...invoke, payload: { txt: 1 } }),
        },
        {
          subject: subjects.runCancel(namespace, runId),
          control: true,
          cases: hostileVariants(
            cancel,
            { ...cancel, kind: 'invoke' },
            { ...cancel, payload: { reason: 'x' } },
          ),
        },
        {
          subject: subjects.kill(namespace),
          control: true,
          cases: hostileVariants(kill, { ...kill, kind: 'cancel' }, { ...kill, payload: { action: 'kill' } }),
        },
        {
          subject: subjects.registryQuery(namespace),
          control: true,
          cases: hostileVariants(
            query,
            { ...query, kind: 'heartbeat' },
            { ...query, payload: { action: 'x' } },
          ),
        },
      ];

      let sent = 0;
      let sentControl = 0;
      for (const { subject, control, cases } of targets) {
        for (const { what, data, reason } of cases) {
          const label = `${what} on ${subject}`;
          const reply = await caller.request(subject, data, { timeoutMs: 5_000 });
          const decoded = decodeEnvelope(reply.data);
          assert.ok(decoded.ok, `${label}: the reply is a valid envelope`);
          assert.equal(decoded.envelope.kind, 'error', label);
          const error = BatonError.fromJSON(decoded.envelope.payload);
          assert.ok(isErrorCode(error.code) && error.code !== 'INTERNAL', `${label}: ${error.code}`);
          assert.ok(
            error.message.length < 2_000,
            `${label}: the message is bounded (${error.message.length})`,
          );
          if (reason !== undefined) assert.equal(error.details?.reason, reason, `${label}: ${error.message}`);
          // The same message again with nowhere to reply: a dead letter still records it.
          caller.publish(subject, data);
          sent += 2;
          if (control) sentControl += 2;
        }
      }
      await caller.flush();
      const afterFlood = performance.now();

      const still = await remote.run({ text: 'still here' });
      const servedAfterMs = performance.now() - afterFlood;
      assert.equal(still.status, 'completed', JSON.stringify(still.error));
      assert.deepEqual(still.output, { text: 'still here' });
      assert.ok(
        servedAfterMs < 2_000,
        `a valid call was served ${Math.round(servedAfterMs)} ms after the flood`,
      );

      assert.equal(served.killed, false, 'no hostile kill killed the worker');
      assert.equal(agent.observed.aborts.length, 0, 'no hostile cancel or kill aborted the run');
      assert.equal(agent.observed.active, 1, 'the long run is still running');
      const found = await listAgents(caller, { namespace, timeoutMs: 200 });
      assert.equal(found.length, 1, 'the registry subscription still answers');
      assert.equal(found[0]?.killed, false);

      // Every hostile message is accounted for: a dead letter, or counted in one by the rate limit.
      const invokeSubject = subjects.invoke(namespace, 'echo');
      await waitUntil(
        () => letters.length + letters.reduce((sum, letter) => sum + (letter.suppressed ?? 0), 0) >= sent,
        `dead letters for all ${sent} hostile messages`,
        10_000,
      );
      const invokeLetters = letters.filter((letter) => letter.subject === invokeSubject);
      const controlLetters = letters.filter((letter) => letter.subject !== invokeSubject);
      assert.equal(invokeLetters.length, sent - sentControl, 'invocations are dead-lettered one by one');
      assert.equal(
        controlLetters.length + controlLetters.reduce((sum, letter) => sum + (letter.suppressed ?? 0), 0),
        sentControl,
        'control messages are dead-lettered or counted as suppressed',
      );
      for (const letter of letters) {
        assert.ok(isErrorCode(letter.error.code), letter.error.code);
        assert.ok(Buffer.byteLength(letter.data, 'utf8') <= DEAD_LETTER_DATA_LIMIT);
      }
      for (const size of letterSizes) assert.ok(size <= caller.maxPayload, `a dead letter of ${size} bytes`);
      assert.ok(
        letters.some((letter) => letter.error.details?.reason === 'depth' && letter.truncated),
        'the deep messages are dead-lettered, cut',
      );

      // The cancel and kill subscriptions still read: a valid cancel and a valid kill take effect.
      const cancelledAt = performance.now();
      controller.abort(new BatonError('ABORTED', 'a real cancel'));
      const longResult = await long;
      assert.equal(longResult.status, 'aborted');
      await waitUntil(() => agent.observed.aborts.length === 1, 'the worker to see the valid cancel', 2_000);
      assert.ok(performance.now() - cancelledAt < 2_000);
      await killSwitch(caller, { namespace, agent: 'echo', reason: 'end of test' });
      await waitUntil(() => served.killed, 'the valid kill to reach the worker', 2_000);
    },
  },
];
