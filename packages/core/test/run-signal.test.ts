import { describe, expect, it } from 'vitest';
import { BatonError, defineAgent, type ModelRequest, run } from '../src/index.js';
import { scriptedModel } from '../src/testing/index.js';
import { RunAbort, realSignal } from '../src/util/run-signal.js';

describe('RunAbort', () => {
  it('calls each listener once, in the order added, and ignores a second add of the same one', () => {
    const abort = new RunAbort();
    const calls: string[] = [];
    const first = () => calls.push('first');
    const second = () => calls.push('second');
    abort.addEventListener('abort', first);
    abort.addEventListener('abort', second);
    abort.addEventListener('abort', first);
    abort.abort(new Error('stop'));
    abort.abort(new Error('again'));
    expect(calls).toEqual(['first', 'second']);
    expect(abort.aborted).toBe(true);
    expect((abort.reason as Error).message).toBe('stop');
  });

  it('does not call a removed listener, nor one added after the abort', () => {
    const abort = new RunAbort();
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    abort.addEventListener('abort', removed);
    abort.removeEventListener('abort', removed);
    abort.abort('why');
    abort.addEventListener('abort', () => calls.push('late'));
    expect(calls).toEqual([]);
  });

  it('makes a Node AbortSignal on first read that aborts with it, before or after the abort', () => {
    const early = new RunAbort();
    const signal = early.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(early.signal).toBe(signal);
    let heard: unknown;
    signal.addEventListener('abort', () => {
      heard = signal.reason;
    });
    early.abort('early reason');
    expect(signal.aborted).toBe(true);
    expect(heard).toBe('early reason');

    const late = new RunAbort();
    late.abort('late reason');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe('late reason');
    expect(realSignal(late)).toBe(late.signal);
    const plain = new AbortController().signal;
    expect(realSignal(plain)).toBe(plain);
  });

  it('a throwing listener stops neither the others nor the abort, and its error is rethrown apart', () => {
    const abort = new RunAbort();
    const calls: string[] = [];
    const deferred: (() => void)[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => deferred.push(task);
    try {
      abort.addEventListener('abort', () => {
        throw new Error('listener failed');
      });
      abort.addEventListener('abort', () => calls.push('second'));
      const signal = abort.signal;
      abort.abort('x');
      expect(calls).toEqual(['second']);
      expect(signal.aborted).toBe(true);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(deferred).toHaveLength(1);
    expect(() => deferred[0]?.()).toThrow('listener failed');
  });
});

describe("a run's signal", () => {
  it('reaches a model adapter as a Node AbortSignal that aborts when the run is cancelled', async () => {
    const seen: AbortSignal[] = [];
    const caller = new AbortController();
    const model = scriptedModel((request: ModelRequest) => {
      if (request.signal) seen.push(request.signal);
      caller.abort(new BatonError('ABORTED', 'the caller gave up'));
      return { text: 'late', delayMs: 60_000 };
    });
    const agent = defineAgent({ name: 'a', description: 'x', instructions: 'x', model });
    const result = await run(agent, 'go', { signal: caller.signal });
    expect(result.status).toBe('aborted');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    expect(seen[0]?.aborted).toBe(true);
    expect(seen[0]?.reason).toMatchObject({ message: 'the caller gave up' });
  });
});
