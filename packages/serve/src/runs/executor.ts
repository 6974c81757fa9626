import {
  type AgentLike,
  type ApprovalStore,
  BatonError,
  type EventHub,
  type RunJournal,
  waitForDecisions,
} from '@baton/core';
import type { Catalogue } from '../catalogue.js';
import type { ServeConfig } from '../config.js';
import { isFinalStatus } from '../schemas.js';
import { deliverWebhook, type WebhookEvent } from '../webhook.js';
import { type RunRecord, toView } from './record.js';
import type { RunStore } from './store.js';
import { type GatewayEvent, type Outcome, targetOf } from './target.js';

/** Where a tenant's runs keep their journal and their approvals, and where their members run. */
export interface TenantStores {
  approvals(tenant: string): ApprovalStore;
  journal(tenant: string, runId: string): RunJournal;
  /** The run is over here: a per-run journal can go. */
  release(tenant: string, runId: string): void;
  members(tenant: string): ((name: string) => AgentLike) | undefined;
}

export interface ExecutorDeps {
  catalogue: Catalogue;
  store: RunStore;
  stores: TenantStores;
  config: ServeConfig;
  /** Names this gateway in the records of the runs it runs. */
  instance: string;
  /** The secret that signs a key's webhooks. */
  webhookSecret(keyId: string): string | undefined;
}

export interface StartOptions {
  events?: EventHub<GatewayEvent>;
  /** The client's connection (sync, stream): closed before the run first settles, it cancels the run. */
  clientSignal?: AbortSignal;
  /** The work queue's signal (the job's deadline, a stopping gateway, the kill switch). */
  signal?: AbortSignal;
}

export interface Drive {
  /** The first time the run stops moving on its own: its end, or a pause for approval. */
  settled: Promise<RunRecord>;
  /** Its end (after every pause), its webhook delivered or given up. */
  done: Promise<RunRecord>;
}

const HEARTBEAT_MS = 5_000;

/** A stopping worker hands its runs back to the work queue: they are not over. */
function isHandBack(reason: unknown): boolean {
  return reason instanceof BatonError && reason.details?.resumable === true;
}

/**
 * Runs records: starts the team or agent, keeps the record in step (running, awaiting_approval, the
 * end), waits for people's decisions and resumes, honours cancel requests from any gateway, and
 * delivers the webhook. One executor per gateway; the runs it has in flight are what `close` waits for.
 */
export class Executor {
  private readonly active = new Map<string, AbortController>();
  private readonly cancelWatch = new Map<string, () => void>();
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: ExecutorDeps) {}

  get running(): number {
    return this.active.size;
  }

  start(record: RunRecord, input: unknown, options: StartOptions = {}): Drive {
    let settle!: (record: RunRecord) => void;
    const settled = new Promise<RunRecord>((resolve) => {
      settle = resolve;
    });
    const done = this.drive(record, input, options, settle).then((final) => {
      settle(final);
      return final;
    });
    return { settled, done };
  }

  /** Cancels a run this gateway runs; false when it runs elsewhere (or not at all). */
  cancelLocal(tenant: string, id: string): boolean {
    const controller = this.active.get(key(tenant, id));
    if (!controller) return false;
    controller.abort(cancelled());
    return true;
  }

  /** Waits up to `graceMs` for the runs in flight, then aborts what is left and waits for it to end. */
  async close(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await sleepMs(50);
    // Resumable: a job on the durable queue goes back to it for another gateway; other runs end aborted.
    const stopping = new BatonError('ABORTED', 'The gateway is shutting down', {
      details: { resumable: true },
    });
    for (const controller of this.active.values()) controller.abort(stopping);
    this.shutdown.abort(stopping);
    const hardStop = Date.now() + 5_000;
    while (this.active.size > 0 && Date.now() < hardStop) await sleepMs(20);
    for (const stop of this.cancelWatch.values()) stop();
    this.cancelWatch.clear();
  }

  private watchCancels(tenant: string): void {
    if (this.cancelWatch.has(tenant)) return;
    this.cancelWatch.set(
      tenant,
      this.deps.store.onCancel(tenant, (id) => this.cancelLocal(tenant, id)),
    );
  }

  private async drive(
    record: RunRecord,
    input: unknown,
    options: StartOptions,
    settle: (record: RunRecord) => void,
  ): Promise<RunRecord> {
    const { store, stores, config } = this.deps;
    const { tenant, id } = record;
    const controller = new AbortController();
    this.active.set(key(tenant, id), controller);
    this.watchCancels(tenant);
    let isSettled = false;
    const settleOnce = (current: RunRecord) => {
      isSettled = true;
      settle(current);
    };
    const onSignal = () => controller.abort(options.signal?.reason);
    const onClient = () => {
      if (!isSettled) controller.abort(new BatonError('ABORTED', 'The client closed the connection'));
    };
    if (options.signal?.aborted) onSignal();
    options.signal?.addEventListener('abort', onSignal, { once: true });
    options.clientSignal?.addEventListener('abort', onClient, { once: true });
    const heartbeat = store.durable
      ? setInterval(() => {
          void store
            .update(tenant, id, (r) =>
              isFinalStatus(r.status) ? undefined : { ...r, heartbeatAt: Date.now() },
            )
            .catch(() => undefined);
        }, HEARTBEAT_MS)
      : undefined;
    heartbeat?.unref();
    // Only a job on the durable work queue has somewhere to go back to when this gateway stops.
    const handBack = () => record.mode === 'async' && store.durable && isHandBack(controller.signal.reason);
    const change = (patch: (r: RunRecord) => Partial<RunRecord>) =>
      store.update(tenant, id, (r) => ({ ...r, ...patch(r), updatedAt: Date.now() }));

    let current: RunRecord = record;
    try {
      const started = await store.update(tenant, id, (r) =>
        // Ended already (cancelled while queued, or a redelivery of a finished job): nothing to run.
        isFinalStatus(r.status)
          ? undefined
          : {
              ...r,
              status: 'running',
              startedAt: r.startedAt ?? Date.now(),
              updatedAt: Date.now(),
              instance: this.deps.instance,
              heartbeatAt: Date.now(),
              pending: undefined,
              input: undefined,
            },
      );
      if (!started) throw new BatonError('RUN_UNKNOWN', `Run ${id} is not in the store`);
      current = started;
      if (isFinalStatus(current.status)) {
        settleOnce(current);
        const delivered = current.webhook?.delivered === true || (current.webhook?.attempts ?? 0) > 0;
        return delivered ? current : await this.notify(current, 'run.finished');
      }
      if (current.cancelRequested) controller.abort(cancelled());

      const target = targetOf(current, {
        catalogue: this.deps.catalogue,
        timeoutMs: config.runs.timeoutMs,
        members: stores.members(tenant),
      });
      const pass = {
        signal: controller.signal,
        events: options.events,
        // On NATS every run is journaled (a redelivered job resumes from it); in one process only a run
        // that may pause needs one.
        journal: store.durable || target.mayPause ? stores.journal(tenant, id) : undefined,
        approvals: stores.approvals(tenant),
        approvalTimeoutMs: config.runs.approvalTimeoutMs,
      };
      const waitedOn = new Set<string>();
      let mode: 'start' | 'resume' = 'start';
      for (;;) {
        const outcome: Outcome = await target.pass(mode, input, pass);
        mode = 'resume';
        if (outcome.status === 'awaiting_approval' && !controller.signal.aborted) {
          const calls = outcome.pending;
          const callKey = (call: { runId: string; toolCallId: string }) =>
            `${call.runId}\u0000${call.toolCallId}`;
          if (calls.length > 0 && calls.every((call) => waitedOn.has(callKey(call)))) {
            throw new BatonError('INTERNAL', `Run ${id} paused again on calls that were already decided`, {
              details: { calls: calls.map((call) => call.toolCallId) },
            });
          }
          current = (await change(() => ({ ...fields(outcome), status: 'awaiting_approval' }))) ?? current;
          settleOnce(current);
          void this.notify(current, 'run.awaiting_approval');
          try {
            await waitForDecisions(pass.approvals, calls, { signal: controller.signal });
          } catch {
            // Cancelled while people decide: the run ends aborted below, nothing more runs.
          }
          for (const call of calls) waitedOn.add(callKey(call));
          if (controller.signal.aborted && handBack()) {
            current = (await change(() => ({ status: 'queued', instance: undefined }))) ?? current;
            return current;
          }
          if (controller.signal.aborted) {
            current =
              (await change(() => ({
                status: 'aborted',
                endedAt: Date.now(),
                pending: undefined,
                error: BatonError.wrap(controller.signal.reason).toJSON(),
              }))) ?? current;
            break;
          }
          current = (await change(() => ({ status: 'running', pending: undefined }))) ?? current;
          continue;
        }
        if (controller.signal.aborted && handBack()) {
          // Back on the queue: the next delivery resumes it from its journal.
          current = (await change(() => ({ status: 'queued', instance: undefined }))) ?? current;
          settleOnce(current);
          return current;
        }
        // A pause that raced a cancel is the end of the run: nothing will resume it.
        const status = outcome.status === 'awaiting_approval' ? 'aborted' : outcome.status;
        current = (await change(() => ({ ...fields(outcome), status, endedAt: Date.now() }))) ?? current;
        break;
      }
    } catch (error) {
      const failure = BatonError.wrap(error).toJSON();
      current =
        (await change(() => ({ status: 'failed', endedAt: Date.now(), error: failure })).catch(
          () => undefined,
        )) ?? ({ ...current, status: 'failed', endedAt: Date.now(), error: failure } as RunRecord);
    } finally {
      clearInterval(heartbeat);
      options.signal?.removeEventListener('abort', onSignal);
      options.clientSignal?.removeEventListener('abort', onClient);
      this.active.delete(key(tenant, id));
      stores.release(tenant, id);
    }
    settleOnce(current);
    return this.notify(current, 'run.finished');
  }

  /** Delivers the webhook of an async run (if it has one) and records how it went. */
  async notify(record: RunRecord, event: WebhookEvent): Promise<RunRecord> {
    const url = record.webhook?.url;
    const secret = this.deps.webhookSecret(record.keyId);
    if (record.mode !== 'async' || !url || !secret) return record;
    const outcome = await deliverWebhook(
      url,
      secret,
      event,
      { event, run: toView(record) },
      this.deps.config.webhook,
      this.shutdown.signal,
    );
    const updated = await this.deps.store
      .update(record.tenant, record.id, (r) => ({ ...r, webhook: { url, ...outcome } }))
      .catch(() => undefined);
    return updated ?? record;
  }
}

function fields(outcome: Outcome): Partial<RunRecord> {
  const patch: Partial<RunRecord> = {
    status: outcome.status,
    output: outcome.output,
    result: outcome.result,
    traceId: outcome.traceId,
    pending: outcome.pending.length > 0 ? outcome.pending : undefined,
  };
  if (outcome.error) patch.error = outcome.error;
  return patch;
}

function key(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}

function cancelled(): BatonError {
  return new BatonError('ABORTED', 'The run was cancelled (POST /v1/runs/{id}/cancel)');
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
