/**
 * Guards that cross the bus (issue 12): a caller's guardrails travel in the invoke envelope as recipes,
 * bounded like everything else that arrives; the worker rebuilds them, runs them before its own (which
 * always apply), and refuses kinds it does not know. Session ids travel next to tenant and user. The team-level
 * scenarios over a real nats-server are in packages/supervisor/test/remote-guards.test.ts.
 */
import {
  type BusMessage,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  InProcessBus,
  remoteAgent,
  serveAgent,
  subjects,
} from '@baton/bus';
import { echoAgent, echoContract, invokeEnvelope, waitUntil } from '@baton/bus/testing';
import {
  allowListGuard,
  BatonError,
  type Guard,
  guardrailsToSpec,
  lengthGuard,
  MAX_GUARD_OPTIONS_DEPTH,
  MAX_GUARD_SPEC_BYTES,
  PASS,
  piiGuard,
} from '@baton/core';
import { afterEach, describe, expect, it } from 'vitest';

const buses: InProcessBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

async function served(guardrails?: Parameters<typeof serveAgent>[2]['guardrails']) {
  const bus = new InProcessBus();
  buses.push(bus);
  const agent = echoAgent();
  await serveAgent(bus, agent, {
    contract: echoContract,
    heartbeatMs: 0,
    ...(guardrails ? { guardrails } : {}),
  });
  const invocations: BusMessage[] = [];
  bus.subscribe(subjects.invoke('default', 'echo'), (message) => invocations.push(message));
  const deadLetters: BusMessage[] = [];
  bus.subscribe(subjects.deadLetter('default', 'echo'), (message) => deadLetters.push(message));
  const echo = remoteAgent(bus, { name: 'echo', contract: echoContract });
  return { bus, agent, echo, invocations, deadLetters };
}

/** Sends raw text as an invocation and decodes the reply. */
async function ask(bus: InProcessBus, text: string): Promise<Envelope> {
  const reply = await bus.request(subjects.invoke('default', 'echo'), text, { timeoutMs: 5_000 });
  const decoded = decodeEnvelope(reply.string());
  if (!decoded.ok) throw decoded.error;
  return decoded.envelope;
}

const nested = (depth: number): unknown => (depth === 0 ? 'x' : { deeper: nested(depth - 1) });

describe('guard recipes in the envelope', () => {
  it('the caller’s guards reach the run, before the worker’s own; the session travels too', async () => {
    const own = lengthGuard({ maxChars: 1_000, name: 'worker-length' });
    const { echo, agent } = await served({ input: [own] });
    const result = await echo.run(
      { text: 'hi' },
      {
        guardrails: { input: [lengthGuard({ maxChars: 10, name: 'team-length' })], toolOutput: [piiGuard()] },
        userId: 'u-1',
        sessionId: 's-1',
      },
    );
    expect(result.status).toBe('completed');
    const options = agent.observed.lastOptions;
    expect(options?.guardrails?.input?.map((guard) => guard.name)).toEqual(['team-length', 'worker-length']);
    expect(options?.guardrails?.toolOutput?.map((guard) => guard.name)).toEqual(['pii']);
    expect(options).toMatchObject({ tenantId: 'default', userId: 'u-1', sessionId: 's-1' });
  });

  it('without caller guards the worker’s own still apply; without either there are none', async () => {
    const own = lengthGuard({ maxChars: 1_000, name: 'worker-length' });
    const guarded = await served({ output: [own] });
    await guarded.echo.run({ text: 'hi' });
    expect(guarded.agent.observed.lastOptions?.guardrails?.output).toEqual([own]);
    const plain = await served();
    await plain.echo.run({ text: 'hi' });
    expect(plain.agent.observed.lastOptions?.guardrails).toBeUndefined();
    // The spy sees what is sent (so its silence elsewhere means something), and nothing extra is sent.
    await plain.bus.flush();
    expect(plain.invocations).toHaveLength(1);
    expect(JSON.parse(plain.invocations[0]?.string() ?? '{}')).not.toHaveProperty('guards');
  });

  it('a guard with no recipe fails the call closed: GUARD_NOT_PORTABLE, nothing sent', async () => {
    const { echo, agent, invocations, bus } = await served();
    const inline: Guard = { name: 'inline', check: () => PASS };
    const result = await echo.run({ text: 'hi' }, { guardrails: { toolInput: [piiGuard(), inline] } });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      code: 'GUARD_NOT_PORTABLE',
      details: { guards: ['toolInput: inline'] },
    });
    // Recipes too large for a worker to accept are refused here too, not discovered there.
    const huge = allowListGuard({
      tool: 'send',
      path: 'to',
      values: Array.from({ length: 5_000 }, (_, index) => `person-${index}@example.com`),
    });
    const tooLarge = await echo.run({ text: 'hi' }, { guardrails: { toolInput: [huge] } });
    expect(tooLarge.error?.code).toBe('GUARD_NOT_PORTABLE');
    await bus.flush();
    expect(invocations).toHaveLength(0);
    expect(agent.observed.runs).toBe(0);
  });

  it('a kind the worker does not know is refused with GUARD_UNKNOWN and dead-lettered; the agent never runs', async () => {
    const { bus, agent, deadLetters } = await served();
    // Caller and worker share this process (and its registry): send a kind nobody registered.
    const unknown = { toolInput: [{ kind: 'test.bus.neverRegistered', options: {} }] };
    const reply = await ask(bus, JSON.stringify(invokeEnvelope({ guards: unknown })));
    expect(reply.kind).toBe('error');
    expect(BatonError.fromJSON(reply.payload).code).toBe('GUARD_UNKNOWN');
    await waitUntil(() => deadLetters.length === 1, 'the dead letter', 10_000);
    expect(agent.observed.runs).toBe(0);
  });

  it('hostile recipes are refused as invalid envelopes: bad stage, bad kind, too deep, too large', async () => {
    const { bus, agent } = await served();
    const cases: unknown[] = [
      { sideways: [] },
      { toolInput: [{ kind: 'has spaces', options: {} }] },
      { toolInput: 'not a list' },
      { toolInput: Array.from({ length: 65 }, () => ({ kind: 'baton.pii', options: {} })) },
      { toolInput: [{ kind: 'baton.length', options: nested(MAX_GUARD_OPTIONS_DEPTH + 2) }] },
      { toolInput: [{ kind: 'baton.allowList', options: { values: ['x'.repeat(MAX_GUARD_SPEC_BYTES)] } }] },
    ];
    for (const guards of cases) {
      const reply = await ask(bus, JSON.stringify({ ...invokeEnvelope(), guards }));
      expect(reply.kind, JSON.stringify(guards).slice(0, 80)).toBe('error');
      expect(BatonError.fromJSON(reply.payload).code).toBe('ENVELOPE_INVALID');
    }
    // Options a built-in cannot be made from are its configuration error, still typed, still not run.
    const bad = await ask(
      bus,
      JSON.stringify({
        ...invokeEnvelope(),
        guards: { input: [{ kind: 'baton.length', options: { maxChars: -1 } }] },
      }),
    );
    expect(BatonError.fromJSON(bad.payload).code).toBe('CONFIG_INVALID');
    expect(agent.observed.runs).toBe(0);
  });

  it('encodes and decodes session and guards like any other field', () => {
    const guards = guardrailsToSpec({ output: [lengthGuard({ maxChars: 5 })] }).spec;
    const envelope = invokeEnvelope({ tenant: 'default', user: 'u', session: 'sess "quoted"', guards });
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded.ok && decoded.envelope).toEqual(envelope);
    const plain = invokeEnvelope({ session: 's-1', guards });
    expect(JSON.parse(encodeEnvelope(plain))).toEqual(JSON.parse(JSON.stringify(plain)));
  });
});
