import { approvalRecordSchema } from '@baton/core';
import { z } from 'zod';

// The HTTP API's shapes. Requests are parsed with these (422 when they do not match) and the OpenAPI
// document is generated from the same schemas, so the documentation cannot drift from the checks.

/** A run id: a NATS subject token and a journal key, so letters, digits, "_" and "-" only. */
export const runIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be 1–100 letters, digits, "_" or "-"')
  .describe('A run id');

const nameSchema = z.string().min(1).max(128);

export const runRequestSchema = z
  .strictObject({
    team: nameSchema.optional().describe('A team of the catalogue (GET /v1/teams); or give `agent`'),
    agent: nameSchema.optional().describe('An agent of the catalogue (GET /v1/agents); or give `team`'),
    input: z
      .unknown()
      .describe(
        "The run's input: the team's or agent's input object, or for a team a plain string topic (what `baton run --topic` takes)",
      ),
    stream: z
      .boolean()
      .optional()
      .describe('Answer with Server-Sent Events: every run event, then the result'),
    async: z
      .boolean()
      .optional()
      .describe('Answer 202 with the run id at once; poll GET /v1/runs/{id} or wait for the webhook'),
    id: runIdSchema.optional().describe('Your own run id (default: generated); 409 when it exists'),
    webhook: z
      .strictObject({
        url: z
          .url({ protocol: /^https?$/ })
          .max(2_048)
          .describe('Where the result is POSTed (async runs)'),
      })
      .optional(),
    userId: z.string().min(1).max(256).optional().describe('Who the run is for (spans, audit, memory)'),
    sessionId: z.string().min(1).max(256).optional(),
  })
  .refine((body) => (body.team === undefined) !== (body.agent === undefined), {
    message: 'give exactly one of "team" or "agent"',
  })
  .refine((body) => body.input !== undefined, { message: '"input" is required', path: ['input'] })
  .refine((body) => !(body.stream && body.async), { message: '"stream" and "async" exclude each other' })
  .refine((body) => body.webhook === undefined || body.async === true, {
    message: '"webhook" only applies to async runs',
    path: ['webhook'],
  });
export type RunRequest = z.output<typeof runRequestSchema>;

/** Where a run is: queued and running before it ends, awaiting_approval while people decide, then its status. */
export const RUN_STATUSES = [
  'queued',
  'running',
  'awaiting_approval',
  'completed',
  'stopped',
  'timeout',
  'budget_exceeded',
  'max_steps',
  'repeated_action',
  'no_progress',
  'guardrail_tripped',
  'denied',
  'failed',
  'aborted',
] as const;
export type GatewayRunStatus = (typeof RUN_STATUSES)[number];
export const runStatusSchema = z.enum(RUN_STATUSES);

const OPEN_STATUSES: ReadonlySet<GatewayRunStatus> = new Set(['queued', 'running', 'awaiting_approval']);
export function isFinalStatus(status: GatewayRunStatus): boolean {
  return !OPEN_STATUSES.has(status);
}

export const errorJsonSchema = z
  .looseObject({
    name: z.literal('BatonError'),
    code: z.string().describe('Stable error code, e.g. UNAUTHORIZED, RATE_LIMITED, INPUT_INVALID'),
    category: z.enum(['user', 'provider', 'limit', 'system']),
    message: z.string(),
    retryable: z.boolean(),
    hint: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('A BatonError as JSON');

export const errorBodySchema = z.object({ error: errorJsonSchema }).describe('A typed error');

export const pendingCallSchema = z.object({
  member: z.string(),
  runId: z.string(),
  toolCallId: z.string(),
  tool: z.string(),
  args: z.unknown(),
});

export const webhookStateSchema = z.object({
  url: z.string(),
  /** Deliveries tried for the last event, and how the last one went. */
  attempts: z.number().int().nonnegative().optional(),
  delivered: z.boolean().optional(),
  lastStatus: z.number().int().optional(),
  lastError: z.string().optional(),
});

export const runViewSchema = z
  .object({
    id: runIdSchema,
    kind: z.enum(['team', 'agent']),
    name: z.string(),
    mode: z
      .enum(['sync', 'stream', 'async', 'a2a'])
      .describe('How it was started: POST /v1/runs (sync, stream, async) or an A2A task (a2a)'),
    status: runStatusSchema,
    output: z.unknown().optional().describe("The team's or agent's answer, when it has one"),
    result: z
      .unknown()
      .optional()
      .describe('The whole TeamResult or RunResult: members, transcript, usage, cost, stop reason, trace id'),
    error: errorJsonSchema.optional(),
    pending: z
      .array(pendingCallSchema)
      .optional()
      .describe('awaiting_approval: the calls people must decide (POST /v1/approvals/...)'),
    cancelRequested: z.boolean().optional(),
    traceId: z.string().optional(),
    createdAt: z.number().describe('epoch ms'),
    updatedAt: z.number(),
    startedAt: z.number().optional(),
    endedAt: z.number().optional(),
    webhook: webhookStateSchema.optional(),
  })
  .describe('A run, as GET /v1/runs/{id} shows it');
export type RunView = z.output<typeof runViewSchema>;

export const acceptedSchema = z.object({ id: runIdSchema, status: runStatusSchema, url: z.string() });

export const teamInfoSchema = z.object({
  name: z.string(),
  description: z.string(),
  members: z.array(z.string()),
});
export const agentInfoSchema = z.object({
  name: z.string(),
  description: z.string(),
  contract: z.string().describe('name@version of its handoff contract'),
  input: z.unknown().describe('JSON Schema of its input'),
});
export const teamsBodySchema = z.object({ teams: z.array(teamInfoSchema) });
export const agentsBodySchema = z.object({ agents: z.array(agentInfoSchema) });

export const runListQuerySchema = z.strictObject({
  status: runStatusSchema.optional().describe('Only the runs with this status'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('At most this many (default 50)'),
});
export const runsBodySchema = z.object({
  runs: z
    .array(runViewSchema)
    .describe('Newest first; each without `result` and `output` (GET /v1/runs/{id} has them)'),
});

export const approvalListQuerySchema = z.strictObject({
  status: z.enum(['pending', 'approved', 'edited', 'denied', 'expired', 'all']).optional(),
  run: z.string().min(1).max(200).optional().describe('Only the calls of this run (or of its members)'),
});
export const approvalsBodySchema = z.object({ approvals: z.array(approvalRecordSchema) });
export const approvalBodySchema = approvalRecordSchema;

const decidedBy = z.string().min(1).max(200).optional().describe('Who decides (recorded with the key id)');
export const approveBodySchema = z.strictObject({ by: decidedBy });
export const denyBodySchema = z.strictObject({ by: decidedBy, reason: z.string().max(2_000).optional() });
export const editBodySchema = z
  .strictObject({ by: decidedBy, args: z.unknown().describe('The arguments the tool runs with instead') })
  .refine((body) => body.args !== undefined, { message: '"args" is required', path: ['args'] });

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.enum(['ok', 'down', 'draining'])),
});
