import { type AgentWorker, localResult, type NatsBus, remoteAgent, serveAgent } from '@baton/bus';
import { type AgentLike, BatonError, defineHandoff, emptyUsage, type RunResult } from '@baton/core';
import { z } from 'zod';
import { isFinalStatus } from '../schemas.js';
import type { Executor } from './executor.js';
import type { RunRecord } from './record.js';
import type { RunStore } from './store.js';

/** Takes async runs: once `submit` resolves, the run is accepted (stored, and on NATS, durably queued). */
export interface Dispatcher {
  submit(record: RunRecord, input: unknown): Promise<void>;
  /** Stops taking jobs; `graceMs` for the ones in flight here. */
  close(graceMs: number): Promise<void>;
}

/**
 * One gateway: async runs wait in this process for one of `concurrency` slots. A restart loses them (the
 * records say so: they stay `queued`); NATS mode is the one that survives restarts.
 */
export function localDispatcher(executor: Executor, store: RunStore, concurrency: number): Dispatcher {
  const waiting: { record: RunRecord; input: unknown }[] = [];
  let running = 0;
  let closed = false;
  const next = () => {
    while (!closed && running < concurrency && waiting.length > 0) {
      const job = waiting.shift() as { record: RunRecord; input: unknown };
      running++;
      void executor.start(job.record, job.input).done.finally(() => {
        running--;
        next();
      });
    }
  };
  return {
    async submit(record, input) {
      await store.create(record);
      waiting.push({ record, input });
      next();
    },
    async close() {
      closed = true;
    },
  };
}

/** Replies that mean the queue will not run the job (again): its record ends with the error. */
const QUEUE_GAVE_UP = new Set([
  'WORKER_CRASHED',
  'KILLED',
  'DEADLINE_EXCEEDED',
  'ENVELOPE_INVALID',
  'HANDOFF_INVALID',
]);

/** The agent every gateway serves on the work queue of each tenant: it runs the gateway's async jobs. */
export const JOB_AGENT = 'baton-gateway';

export const jobContract = defineHandoff({
  name: 'baton.gateway.job',
  version: 1,
  input: z.object({ id: z.string().min(1).max(100), input: z.unknown() }),
  output: z.object({ id: z.string(), status: z.string() }),
});
type JobInput = z.output<typeof jobContract.input>;
type JobOutput = z.output<typeof jobContract.output>;

export interface NatsDispatcherOptions {
  tenants: readonly string[];
  concurrency: number;
  /** Longest a job may take, approval waits included (the invocation's deadline). */
  jobTimeoutMs: number;
  instance: string;
  /** How long a job of a gateway that died waits before another gateway takes it over (default 3 s). */
  ackWaitMs?: number;
}

/**
 * NATS mode: async jobs go on each tenant's JetStream work queue through the bus's durable invocations
 * (`serveAgent` with `durable`, `remoteAgent` with `durable`): at-least-once delivery, one claim per job,
 * redelivery to another gateway when one dies, dead letters after max deliveries. Every gateway serves
 * the job agent of every tenant it knows, so any of them runs any job; the job's record in KV is what
 * clients read, and a redelivered job resumes from its journal.
 */
export async function natsDispatcher(
  bus: NatsBus,
  executor: Executor,
  store: RunStore,
  options: NatsDispatcherOptions,
): Promise<Dispatcher> {
  const workers: AgentWorker[] = [];
  const callers = new Map<string, AgentLike<JobInput, JobOutput>>();
  const caller = (tenant: string) => {
    let proxy = callers.get(tenant);
    if (!proxy) {
      proxy = remoteAgent(bus, {
        name: JOB_AGENT,
        contract: jobContract,
        namespace: tenant,
        durable: true,
        from: 'gateway',
        // The queue's deadline, a little after the job's own, so the job ends by its own timer first.
        timeoutMs: options.jobTimeoutMs + 60_000,
      });
      callers.set(tenant, proxy);
    }
    return proxy;
  };
  const enqueue = (tenant: string, id: string, input: unknown) => {
    // The record is what clients read, and the gateway that runs the job keeps it; a gateway that dies
    // here loses nothing but this wait. What the reply adds: a job the queue gave up on (dead-lettered
    // after crashing its gateways, past its deadline, killed) never reaches a runner to end its record.
    void caller(tenant)
      .run({ id, input }, { runId: id, invocationKey: id })
      .then((result) => {
        const code = result.error?.code;
        if (result.status === 'completed' || !code || !QUEUE_GAVE_UP.has(code)) return;
        return store.update(tenant, id, (record) =>
          isFinalStatus(record.status)
            ? undefined
            : {
                ...record,
                status: 'failed',
                error: result.error,
                endedAt: Date.now(),
                updatedAt: Date.now(),
              },
        );
      })
      .catch(() => undefined);
  };

  try {
    for (const tenant of options.tenants) {
      workers.push(
        await serveAgent(bus, jobRunner(tenant, executor, store), {
          contract: jobContract,
          namespace: tenant,
          concurrency: options.concurrency,
          durable: { ackWaitMs: options.ackWaitMs ?? 3_000 },
          instanceId: options.instance,
        }),
      );
    }
    // Jobs accepted by a gateway that died before it could queue them: queue them now. A job queued twice
    // is run once (the envelope id is the job id: JetStream drops the duplicate, the claim does the rest).
    for (const tenant of options.tenants) {
      for (const record of await store.queued(tenant)) enqueue(tenant, record.id, record.input);
    }
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop().catch(() => undefined)));
    throw error;
  }

  return {
    async submit(record, input) {
      await store.create({ ...record, input });
      enqueue(record.tenant, record.id, input);
    },
    async close(graceMs) {
      await Promise.all(workers.map((worker) => worker.drain({ timeoutMs: graceMs }).catch(() => undefined)));
    },
  };
}

function jobRunner(tenant: string, executor: Executor, store: RunStore): AgentLike<JobInput, JobOutput> {
  return {
    name: JOB_AGENT,
    description: "Runs the HTTP gateway's async jobs",
    async run(job, options = {}): Promise<RunResult<JobOutput>> {
      const started = performance.now();
      const runId = options.runId ?? job.id;
      const failed = (error: BatonError) =>
        localResult<JobOutput>({
          agent: JOB_AGENT,
          runId,
          traceId: '',
          spanId: '',
          error,
          durationMs: performance.now() - started,
        });
      const record = await store.get(tenant, job.id);
      if (!record) return failed(new BatonError('RUN_UNKNOWN', `No gateway run ${job.id} in ${tenant}`));
      const final = await executor.start(record, job.input ?? record.input, {
        ...(options.signal ? { signal: options.signal } : {}),
      }).done;
      // Handed back to the queue (this gateway is stopping): the worker gives it to another gateway.
      if (final.status === 'queued') return failed(BatonError.wrap(options.signal?.reason));
      return {
        status: 'completed',
        output: { id: final.id, status: final.status },
        partial: { summary: `job ${final.id} ended ${final.status}`, toolResults: [], missing: [] },
        steps: 0,
        usage: emptyUsage(),
        costUsd: 0,
        durationMs: performance.now() - started,
        runId,
        traceId: final.traceId ?? '',
        spanId: '',
        agent: JOB_AGENT,
      };
    },
  };
}
