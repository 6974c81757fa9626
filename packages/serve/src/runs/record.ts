import { randomBytes } from 'node:crypto';
import type { BatonErrorJSON } from '@baton/core';
import { z } from 'zod';
import {
  type GatewayRunStatus,
  isFinalStatus,
  pendingCallSchema,
  type RunView,
  runStatusSchema,
  webhookStateSchema,
} from '../schemas.js';

/**
 * A run as the gateway stores it (in memory, or in the tenant's KV bucket on NATS): what GET shows plus
 * what only the gateway needs — the tenant and key, who runs it, the cancel request, the heartbeat.
 */
export const runRecordSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  tenant: z.string(),
  keyId: z.string(),
  kind: z.enum(['team', 'agent']),
  name: z.string(),
  mode: z.enum(['sync', 'stream', 'async', 'a2a']),
  status: runStatusSchema,
  createdAt: z.number(),
  updatedAt: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  output: z.unknown().optional(),
  result: z.unknown().optional(),
  /** The result was too large to store whole: its transcript (or all but the output) was left out. */
  truncated: z.boolean().optional(),
  error: z.record(z.string(), z.unknown()).optional(),
  pending: z.array(pendingCallSchema).optional(),
  traceId: z.string().optional(),
  cancelRequested: z.boolean().optional(),
  webhook: webhookStateSchema.optional(),
  /** The gateway instance running it, and when it last said so (runs not on the work queue). */
  instance: z.string().optional(),
  heartbeatAt: z.number().optional(),
  userId: z.string().optional(),
  sessionId: z.string().optional(),
  /** An async run's input while it waits (a restarted gateway queues it again with it); cleared at start. */
  input: z.unknown().optional(),
});
export type RunRecord = Omit<z.output<typeof runRecordSchema>, 'error'> & { error?: BatonErrorJSON };

/** A fresh, readable run id: `<name>-<yyyymmdd-hhmmss>-<12 hex>`; member runs append their part to it. */
export function newRunId(name: string, now = new Date()): string {
  const base = name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'run';
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `${base}-${stamp}-${randomBytes(6).toString('hex')}`;
}

/**
 * A run not on the work queue (sync, stream) whose gateway stopped saying it runs it for this long is
 * reported failed: its client's connection died with that gateway, and nothing will finish it.
 */
export const STALE_AFTER_MS = 30_000;

/** What a client sees of a record. */
export function toView(record: RunRecord, now = Date.now()): RunView {
  let status: GatewayRunStatus = record.status;
  let error = record.error;
  if (
    !isFinalStatus(status) &&
    record.mode !== 'async' &&
    record.heartbeatAt !== undefined &&
    now - record.heartbeatAt > STALE_AFTER_MS
  ) {
    status = 'failed';
    error = {
      name: 'BatonError',
      code: 'WORKER_CRASHED',
      category: 'system',
      message: `The gateway running this ${record.mode} run (${record.instance ?? 'unknown'}) stopped`,
      retryable: true,
    };
  }
  const view: RunView = {
    id: record.id,
    kind: record.kind,
    name: record.name,
    mode: record.mode,
    status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.output !== undefined) view.output = record.output;
  if (record.result !== undefined) view.result = record.result;
  if (error !== undefined) view.error = error as RunView['error'];
  if (record.pending !== undefined) view.pending = record.pending;
  if (record.cancelRequested) view.cancelRequested = true;
  if (record.traceId !== undefined) view.traceId = record.traceId;
  if (record.startedAt !== undefined) view.startedAt = record.startedAt;
  if (record.endedAt !== undefined) view.endedAt = record.endedAt;
  if (record.webhook !== undefined) view.webhook = record.webhook;
  return view;
}

/**
 * The record as JSON no larger than `maxBytes` (a KV value must fit the server's max payload): first the
 * whole result, then without the result's transcript, then without the result (the output stays).
 */
export function encodeRecord(record: RunRecord, maxBytes: number): string {
  const whole = JSON.stringify(record);
  if (Buffer.byteLength(whole) <= maxBytes) return whole;
  const result = record.result as Record<string, unknown> | undefined;
  if (result && typeof result === 'object' && 'transcript' in result) {
    const { transcript: _transcript, ...rest } = result;
    const slimmer = JSON.stringify({ ...record, result: rest, truncated: true });
    if (Buffer.byteLength(slimmer) <= maxBytes) return slimmer;
  }
  const { result: _result, ...withoutResult } = record;
  const slim = JSON.stringify({ ...withoutResult, truncated: true });
  if (Buffer.byteLength(slim) <= maxBytes) return slim;
  const { output: _output, ...bare } = withoutResult;
  return JSON.stringify({ ...bare, truncated: true });
}

export function decodeRecord(text: string): RunRecord | undefined {
  try {
    const parsed = runRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}
