import { z } from 'zod';

/**
 * One finished span as a line of a trace file. Times are epoch milliseconds (fractional), so files from
 * several processes of one machine line up.
 */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OpenTelemetry SpanKind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  kind: number;
  startMs: number;
  durationMs: number;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  attributes: Record<string, AttributeValue>;
  events: { name: string; timeMs: number; attributes: Record<string, AttributeValue> }[];
  /** `service.name` of the process that recorded it. */
  service: string;
  pid: number;
}

export type AttributeValue = string | number | boolean | (string | number | boolean | null)[];

const attributeValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])),
]);
const attributes = z.record(z.string(), attributeValue);

export const spanRecordSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  name: z.string(),
  kind: z.number().int(),
  startMs: z.number(),
  durationMs: z.number(),
  status: z.object({ code: z.number().int(), message: z.string().optional() }),
  attributes,
  events: z.array(z.object({ name: z.string(), timeMs: z.number(), attributes })),
  service: z.string(),
  pid: z.number().int(),
});

/** A line of the run index: which trace a run (a team's or an agent's) belongs to. */
export interface RunIndexEntry {
  runId: string;
  traceId: string;
  spanId: string;
  /** `workflow` for a team run, `agent` for an agent run. */
  kind: 'workflow' | 'agent';
  /** The team's or the agent's name. */
  name: string;
  status?: string;
  startMs: number;
  pid: number;
  /** Written by exporters since the index lines carry them; older lines lack them. */
  durationMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

export const runIndexEntrySchema = z.object({
  runId: z.string().min(1),
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string(),
  kind: z.enum(['workflow', 'agent']),
  name: z.string(),
  status: z.string().optional(),
  startMs: z.number(),
  pid: z.number().int(),
  // Lenient: an odd figure must not hide the run from the index.
  durationMs: z.number().optional(),
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  costUsd: z.number().optional(),
});

/** Where trace files go by default: `.baton/traces` in the working directory. */
export function defaultTraceDir(cwd: string = process.cwd()): string {
  return `${cwd}/.baton/traces`;
}

export const INDEX_FILE = 'index.jsonl';

/** `<traceId>.<pid>.jsonl`: one file per process and trace, so processes never write the same file. */
export function traceFileName(traceId: string, pid: number): string {
  return `${traceId}.${pid}.jsonl`;
}
