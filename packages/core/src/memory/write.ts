/**
 * Every memory write of a run goes through here: the run's `memoryWrite` guards see the record first
 * (a PII guard redacts it, another may refuse it), then the store keeps what they let through.
 */
import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import { runGuards } from '../guards/run.js';
import type { Guard } from '../guards/types.js';
import type { MemoryNamespace, MemoryPutOptions, MemoryRecord, MemoryStore } from './store.js';

export interface GuardedWrite {
  store: MemoryStore;
  namespace: MemoryNamespace;
  key: string;
  value: string;
  options: MemoryPutOptions;
  guards: readonly Guard[];
  /** Who writes, for the guards' context and events. */
  runId: string;
  agent: string;
  signal: AbortSignal;
  events: RunEventSink | undefined;
  via: 'tool' | 'episode' | 'summary';
  /** Embeds the stored value when the store does vector search; gets the text the guards let through. */
  embed?: (text: string) => Promise<readonly number[] | undefined>;
}

// A guard's rewrite is data like any other: it must still be a key and a value.
const checkedSchema = z.object({ key: z.string(), value: z.string() });

/**
 * Runs the memoryWrite guards on `{ key, value }`, then stores the result. A trip refuses the write with
 * GUARDRAIL_TRIPPED (nothing is stored; the run decides what that means) — it never stores the original.
 */
export async function guardedPut(write: GuardedWrite): Promise<{ record: MemoryRecord; rewritten: boolean }> {
  let { key, value } = write;
  let rewritten = false;
  if (write.guards.length > 0) {
    const context = {
      runId: write.runId,
      agent: write.agent,
      signal: write.signal,
      events: write.events,
      ...(write.namespace.tenant === undefined ? {} : { tenantId: write.namespace.tenant }),
      ...(write.namespace.user === undefined ? {} : { userId: write.namespace.user }),
    };
    const outcome = await runGuards(write.guards, 'memoryWrite', { key, value }, context);
    if (outcome.tripped) throw outcome.error;
    if (outcome.rewrittenBy.length > 0) {
      const parsed = checkedSchema.safeParse(outcome.value);
      if (!parsed.success) {
        throw new BatonError(
          'GUARDRAIL_TRIPPED',
          `memoryWrite guards (${outcome.rewrittenBy.join(', ')}) returned something other than a key and a value`,
          { details: { stage: 'memoryWrite', guard: outcome.rewrittenBy.join(',') } },
        );
      }
      ({ key, value } = parsed.data);
      rewritten = true;
    }
  }
  const options: MemoryPutOptions = { ...write.options };
  const embedding = await write.embed?.(value);
  if (embedding !== undefined) options.embedding = embedding;
  const record = await write.store.put(write.namespace, key, value, options);
  if (write.events?.listens('memory.saved')) {
    write.events.emit({
      type: 'memory.saved',
      runId: write.runId,
      agent: write.agent,
      at: Date.now(),
      via: write.via,
      key: record.key,
      kind: record.kind,
      version: record.version,
      rewritten,
    });
  }
  return { record, rewritten };
}
