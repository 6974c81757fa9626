import { type ApprovalDecision, type ApprovalStatus, BatonError } from '@baton/core';
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { GatewayEnv } from '../auth.js';
import { invalidInput } from '../http-errors.js';
import { approvalListQuerySchema, approveBodySchema, denyBodySchema, editBodySchema } from '../schemas.js';
import type { GatewayServices } from '../services.js';
import { readJson } from './runs.js';

/**
 * The durable approvals of the caller's tenant — the records `baton approvals` lists and decides — over
 * HTTP: list, show, approve, edit (approve with other arguments), deny. Each call is decided once:
 * a second decision is 409 APPROVAL_DECIDED. A run waiting on the calls resumes once all are decided.
 */
export function approvalRoutes(app: Hono<GatewayEnv>, services: GatewayServices): void {
  app.get('/v1/approvals', async (c) => {
    const query = approvalListQuerySchema.safeParse(c.req.query());
    if (!query.success) throw invalidInput('query', query.error);
    const status = query.data.status ?? 'pending';
    const store = services.stores.approvals(c.get('caller').tenant);
    const all = await store.list(status === 'all' ? {} : { status: status as ApprovalStatus });
    const run = query.data.run;
    const approvals = run ? all.filter((record) => record.runId === run || record.teamRunId === run) : all;
    return c.json({ approvals }, 200);
  });

  app.get('/v1/approvals/:runId/:callId', async (c) => {
    const store = services.stores.approvals(c.get('caller').tenant);
    const record = await store.get(c.req.param('runId'), c.req.param('callId'));
    if (!record) throw unknownApproval(c.req.param('runId'), c.req.param('callId'));
    return c.json(record, 200);
  });

  const decide = async (
    c: Context<GatewayEnv>,
    schema: z.ZodType<{ by?: string | undefined }>,
    decisionOf: (body: Record<string, unknown>) => ApprovalDecision,
  ) => {
    const parsed = schema.safeParse(await readJson(c));
    if (!parsed.success) throw invalidInput('decision', parsed.error);
    const caller = c.get('caller');
    const runId = c.req.param('runId') as string;
    const callId = c.req.param('callId') as string;
    const store = services.stores.approvals(caller.tenant);
    // Who decided is always traceable to a key, whatever name the client gives.
    const by = parsed.data.by ? `${parsed.data.by} (key ${caller.keyId})` : `key ${caller.keyId}`;
    const record = await store.decide(runId, callId, decisionOf(parsed.data as Record<string, unknown>), by);
    return c.json(record, 200);
  };

  app.post('/v1/approvals/:runId/:callId/approve', (c) =>
    decide(c, approveBodySchema, () => ({ decision: 'approve' })),
  );
  app.post('/v1/approvals/:runId/:callId/deny', (c) =>
    decide(c, denyBodySchema, (body) =>
      typeof body.reason === 'string' ? { decision: 'deny', reason: body.reason } : { decision: 'deny' },
    ),
  );
  app.post('/v1/approvals/:runId/:callId/edit', (c) =>
    decide(c, editBodySchema, (body) => ({ decision: 'edit', args: body.args })),
  );
}

function unknownApproval(runId: string, callId: string): BatonError {
  return new BatonError('APPROVAL_UNKNOWN', `No approval for call ${callId} of run ${runId}`, {
    details: { runId, toolCallId: callId },
  });
}
