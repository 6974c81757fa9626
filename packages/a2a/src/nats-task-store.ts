import { type ListTasksRequest, type ListTasksResponse, Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import type { NatsBus } from '@baton/bus';
import { BatonError } from '@baton/core';
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { z } from 'zod';
import { namespaceOf } from './names.js';
import { isTerminal } from './wire.js';

/** The KV bucket of a namespace's A2A tasks (named like the bus's buckets; see tenancy permissions). */
export function a2aTasksBucket(namespace: string): string {
  return `BATON_${namespace}_A2A_TASKS`;
}

export interface NatsTaskStoreOptions {
  /** The tenant (default `default`): its own bucket, `BATON_<ns>_A2A_TASKS`. */
  namespace?: string;
  /** How long a task stays readable; the bucket's max age (default 24 h). */
  retentionMs?: number;
  /** The longest one call waits for the server (default 5 s). */
  timeoutMs?: number;
  /** Told of every write that lost a race to another writer (and was merged and written again). */
  onConflict?: (taskId: string) => void;
}

const DAY = 24 * 60 * 60 * 1000;
const MAX_ATTEMPTS = 8;
/** Revisions remembered; past this the oldest go (a save without one is a create, merged on conflict). */
const MAX_REVISIONS = 10_000;

/** What a KV value must look like before the SDK's codec reads it. */
const storedTask = z.object({ id: z.string().min(1), contextId: z.string() }).loose();

/**
 * A2A tasks in a NATS KV bucket per namespace, shared by every gateway replica. Each save is a
 * compare-and-set on the revision this store last read or wrote: when another replica wrote in between,
 * the save is detected as a conflict, merged with what is stored (a terminal state is never undone,
 * artifacts and history are unions) and tried again — two replicas never overwrite each other's update.
 */
export class NatsTaskStore implements TaskStore {
  private bucket: Promise<KV> | undefined;
  private readonly revisions = new Map<string, number>();
  private readonly connection: NatsBus['connection'];
  readonly bucketName: string;
  /** Saves that met another writer's update (each was merged and written again). */
  conflicts = 0;

  constructor(
    bus: NatsBus,
    private readonly options: NatsTaskStoreOptions = {},
  ) {
    this.connection = bus.connection;
    this.bucketName = a2aTasksBucket(namespaceOf('NatsTaskStore', options.namespace));
  }

  async load(taskId: string, context?: ServerCallContext): Promise<Task | undefined> {
    const key = keyOf(taskId, context);
    const current = await this.read(key);
    if (!current) {
      this.revisions.delete(key);
      return undefined;
    }
    this.remember(key, current.revision);
    return current.task;
  }

  async save(task: Task, context?: ServerCallContext): Promise<void> {
    const key = keyOf(task.id, context);
    const kv = await this.kv();
    let next = task;
    let expected = this.revisions.get(key);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const value = JSON.stringify(Task.toJSON(next));
      try {
        const revision =
          expected === undefined ? await kv.create(key, value) : await kv.update(key, value, expected);
        if (isTerminal(next.status?.state)) this.revisions.delete(key);
        else this.remember(key, revision);
        return;
      } catch (error) {
        if (!isConflict(error)) throw unavailable(`Cannot save A2A task ${task.id}`, error);
      }
      this.conflicts++;
      this.options.onConflict?.(task.id);
      const current = await this.read(key);
      if (current) {
        next = mergeTasks(current.task, task);
        expected = current.revision;
      } else expected = undefined;
    }
    throw new BatonError('JOURNAL_CONFLICT', `A2A task ${task.id}: too many concurrent writers`, {
      details: { taskId: task.id, attempts: MAX_ATTEMPTS },
    });
  }

  async list(params: ListTasksRequest, context?: ServerCallContext): Promise<ListTasksResponse> {
    const kv = await this.kv();
    const prefix = tenantPrefix(context);
    const tasks: Task[] = [];
    try {
      for await (const key of await kv.keys(prefix === '' ? '>' : `${prefix}>`)) {
        if (prefix === '' && key.startsWith('t.')) continue;
        const current = await this.read(key);
        if (!current) continue;
        const { task } = current;
        if (params.contextId && task.contextId !== params.contextId) continue;
        if (params.status && task.status?.state !== params.status) continue;
        if (params.statusTimestampAfter && (task.status?.timestamp ?? '') <= params.statusTimestampAfter)
          continue;
        tasks.push(task);
      }
    } catch (error) {
      throw unavailable('Cannot list A2A tasks', error);
    }
    tasks.sort((a, b) => (b.status?.timestamp ?? '').localeCompare(a.status?.timestamp ?? ''));
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100);
    const offset = Number.parseInt(params.pageToken || '0', 10) || 0;
    const page = tasks.slice(offset, offset + pageSize).map((task) => ({
      ...task,
      artifacts: params.includeArtifacts ? task.artifacts : [],
      history:
        params.historyLength === undefined
          ? task.history
          : task.history.slice(-params.historyLength || task.history.length),
    }));
    const nextOffset = offset + page.length;
    return {
      tasks: page,
      nextPageToken: nextOffset < tasks.length ? String(nextOffset) : '',
      pageSize,
      totalSize: tasks.length,
    };
  }

  private async read(key: string): Promise<{ task: Task; revision: number } | undefined> {
    const kv = await this.kv();
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await kv.get(key);
    } catch (error) {
      throw unavailable(`Cannot read A2A task ${key}`, error);
    }
    if (entry?.operation !== 'PUT') return undefined;
    let json: unknown;
    try {
      json = entry.json();
    } catch {
      json = undefined;
    }
    const checked = storedTask.safeParse(json);
    if (!checked.success) {
      throw new BatonError('JOURNAL_INVALID', `A2A task ${key} in ${this.bucketName} is not a task`, {
        details: { key, bucket: this.bucketName },
      });
    }
    return { task: Task.fromJSON(checked.data), revision: entry.revision };
  }

  private remember(key: string, revision: number): void {
    this.revisions.delete(key);
    this.revisions.set(key, revision);
    if (this.revisions.size > MAX_REVISIONS) {
      const oldest = this.revisions.keys().next().value;
      if (oldest !== undefined) this.revisions.delete(oldest);
    }
  }

  private kv(): Promise<KV> {
    if (this.connection.isClosed()) {
      return Promise.reject(new BatonError('BUS_CLOSED', 'NatsTaskStore: the connection is closed'));
    }
    this.bucket ??= (async () => {
      const kvm = new Kvm(jetstream(this.connection, { timeout: this.options.timeoutMs ?? 5_000 }));
      const config = { history: 1, ttl: this.options.retentionMs ?? DAY };
      try {
        return await kvm.create(this.bucketName, config);
      } catch (error) {
        try {
          return await kvm.open(this.bucketName);
        } catch {
          throw error;
        }
      }
    })().catch((error: unknown) => {
      this.bucket = undefined;
      throw unavailable(`Cannot open the KV bucket ${this.bucketName}`, error);
    });
    return this.bucket;
  }
}

/**
 * What two writers' versions of one task come to: a terminal state, once stored, stays (the first
 * terminal state wins); otherwise the newer write's status. Artifacts merge by id (the newer write's
 * copy wins), history by message id, metadata key by key.
 */
export function mergeTasks(stored: Task, incoming: Task): Task {
  const keepStored = isTerminal(stored.status?.state);
  const artifacts = new Map(stored.artifacts.map((item) => [item.artifactId, item]));
  for (const item of incoming.artifacts) artifacts.set(item.artifactId, item);
  const seen = new Set(stored.history.map((message) => message.messageId));
  return {
    ...incoming,
    status: keepStored ? stored.status : incoming.status,
    artifacts: [...artifacts.values()],
    history: [...stored.history, ...incoming.history.filter((message) => !seen.has(message.messageId))],
    metadata: { ...(stored.metadata ?? {}), ...(incoming.metadata ?? {}) },
  };
}

/** KV keys: the tenant (when the call names one) then the task id, each escaped to KV's characters. */
function keyOf(taskId: string, context: ServerCallContext | undefined): string {
  return `${tenantPrefix(context)}${escapeKey(taskId)}`;
}

function tenantPrefix(context: ServerCallContext | undefined): string {
  const tenant = context?.tenant;
  return tenant ? `t.${escapeKey(tenant)}.` : '';
}

function escapeKey(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, (char) => {
    const code = char.codePointAt(0) ?? 0;
    return `=${code.toString(16).padStart(2, '0')}`;
  });
}

function isConflict(error: unknown): boolean {
  const code = (error as { api_error?: { err_code?: number } })?.api_error?.err_code;
  return code === 10071 || /wrong last sequence|key exists/i.test(String((error as Error)?.message ?? ''));
}

function unavailable(message: string, cause: unknown): BatonError {
  if (cause instanceof BatonError) return cause;
  return new BatonError('BUS_DISCONNECTED', message, { cause });
}
