import assert from 'node:assert/strict';
import { BatonError } from '@baton/core';
import { remoteAgent } from '../../agent/remote.js';
import { serveAgent } from '../../agent/serve.js';
import { type DeadLetter, watchDeadLetters } from '../../dead-letter.js';
import { decodeEnvelope } from '../../envelope.js';
import { subjects } from '../../subjects.js';
import { echoAgent, echoContract, invokeEnvelope } from '../agents.js';
import { bytes, type ConformanceCase, waitUntil } from './context.js';

/** Every way an invocation can be wrong, with the error code the worker must answer. */
function malformedMessages(): Array<{ what: string; data: Uint8Array; code: string }> {
  const json = (value: unknown) => bytes(JSON.stringify(value));
  return [
    { what: 'bad JSON', data: bytes('{"v":1,"id":'), code: 'ENVELOPE_INVALID' },
    { what: 'missing fields', data: json({ v: 1, id: 'x', kind: 'invoke' }), code: 'ENVELOPE_INVALID' },
    { what: 'wrong envelope version', data: json({ ...invokeEnvelope(), v: 2 }), code: 'ENVELOPE_INVALID' },
    {
      what: 'unknown contract',
      data: json(invokeEnvelope({ contract: 'billing.refund@1' })),
      code: 'CONTRACT_UNKNOWN',
    },
    {
      what: 'wrong contract version',
      data: json(invokeEnvelope({ contract: 'test.echo@2' })),
      code: 'CONTRACT_VERSION',
    },
    {
      what: 'payload over the limit',
      data: json(invokeEnvelope({ payload: { text: 'x'.repeat(3_000) } })),
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      what: 'expired deadline',
      data: json(invokeEnvelope({ deadline: Date.now() - 1_000 })),
      code: 'DEADLINE_EXCEEDED',
    },
    { what: 'too many hops', data: json(invokeEnvelope({ hop: 99 })), code: 'HOP_LIMIT' },
    {
      what: 'input against the contract',
      data: json(invokeEnvelope({ payload: { txt: 'typo' } })),
      code: 'HANDOFF_INVALID',
    },
  ];
}

export const malformedConformance: ConformanceCase[] = [
  {
    name: 'malformed invocations get a typed error reply and a dead letter; the worker keeps serving',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, {
        contract: echoContract,
        namespace,
        maxPayload: 2_048,
      });
      defer(() => served.stop());
      const letters: DeadLetter[] = [];
      const watcher = watchDeadLetters(caller, { namespace, agent: 'echo' }, (letter) =>
        letters.push(letter),
      );
      defer(() => watcher.unsubscribe());
      await caller.flush();
      const cases = malformedMessages();
      for (const { what, data, code } of cases) {
        const reply = await caller.request(subjects.invoke(namespace, 'echo'), data, { timeoutMs: 2_000 });
        const decoded = decodeEnvelope(reply.data);
        assert.ok(decoded.ok, `${what}: the reply is a valid envelope`);
        assert.equal(decoded.envelope.kind, 'error', what);
        const error = BatonError.fromJSON(decoded.envelope.payload);
        assert.equal(error.code, code, `${what}: ${error.message}`);
      }
      await waitUntil(() => letters.length >= cases.length, 'one dead letter per rejected message', 3_000);
      assert.deepEqual(
        letters.map((letter) => letter.error.code),
        cases.map((c) => c.code),
      );
      const badJson = letters[0] as DeadLetter;
      assert.equal(badJson.data, '{"v":1,"id":', 'the dead letter keeps the original bytes');
      assert.equal(badJson.subject, subjects.invoke(namespace, 'echo'));
      assert.equal(letters[5]?.truncated, false);
      assert.ok((letters[5]?.size ?? 0) > 2_048);
      assert.equal(agent.observed.runs, 0, 'nothing malformed ran');
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const result = await remote.run({ text: 'still here' });
      assert.equal(result.status, 'completed');
      assert.deepEqual(result.output, { text: 'still here' });
    },
  },
];
