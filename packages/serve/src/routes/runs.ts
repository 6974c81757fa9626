import { BatonError } from '@baton/core';
import type { Context, Hono } from 'hono';
import type { GatewayEnv } from '../auth.js';
import { findAgent, findTeam } from '../catalogue.js';
import { invalidInput } from '../http-errors.js';
import { newRunId, type RunRecord, toView } from '../runs/record.js';
import {
  isFinalStatus,
  type RunRequest,
  runIdSchema,
  runListQuerySchema,
  runRequestSchema,
} from '../schemas.js';
import type { GatewayServices } from '../services.js';
import { checkWebhookUrl } from '../webhook.js';
import { streamRun } from './stream.js';

/** The body as JSON: 400 when it is not JSON at all, before any schema is looked at. */
export async function readJson(c: Context<GatewayEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BatonError('INPUT_INVALID', `The body is not valid JSON: ${(error as Error).message}`, {
      details: { reason: 'json' },
      hint: 'Send Content-Type: application/json with a JSON object',
    });
  }
}

/** The run's target and its input, checked: 404 for an unknown name, 422 for an input its contract refuses. */
function resolveTarget(services: GatewayServices, request: RunRequest) {
  if (request.team !== undefined) {
    const team = findTeam(services.catalogue, request.team);
    const input = typeof request.input === 'string' ? team.fromTopic(request.input) : request.input;
    return { kind: 'team' as const, name: team.name, input };
  }
  const agent = findAgent(services.catalogue, request.agent as string);
  const checked = agent.contract.input.safeParse(request.input);
  if (!checked.success) throw invalidInput(`input for agent "${agent.name}"`, checked.error);
  return { kind: 'agent' as const, name: agent.name, input: request.input };
}

export function runRoutes(app: Hono<GatewayEnv>, services: GatewayServices): void {
  app.post('/v1/runs', async (c) => {
    const parsed = runRequestSchema.safeParse(await readJson(c));
    if (!parsed.success) throw invalidInput('run request', parsed.error);
    const request = parsed.data;
    const caller = c.get('caller');
    const target = resolveTarget(services, request);
    if (request.webhook) {
      if (!services.webhookSecret(caller.keyId)) {
        throw new BatonError('INPUT_INVALID', 'This gateway has no webhook secret to sign webhooks with', {
          hint: 'Set BATON_WEBHOOK_SECRET (or webhook.secret, or the key\'s "webhookSecret") on the gateway',
        });
      }
      checkWebhookUrl(request.webhook.url, services.config.webhook.allowHosts);
    }
    const now = Date.now();
    const record: RunRecord = {
      v: 1,
      id: request.id ?? newRunId(target.name),
      tenant: caller.tenant,
      keyId: caller.keyId,
      kind: target.kind,
      name: target.name,
      mode: request.async ? 'async' : request.stream ? 'stream' : 'sync',
      status: 'queued',
      createdAt: now,
      updatedAt: now,
      ...(request.webhook ? { webhook: { url: request.webhook.url } } : {}),
      ...(request.userId !== undefined ? { userId: request.userId } : {}),
      ...(request.sessionId !== undefined ? { sessionId: request.sessionId } : {}),
    };
    const url = `/v1/runs/${record.id}`;
    c.header('Baton-Run-Id', record.id);
    c.header('Location', url);
    if (record.mode === 'async') {
      await services.dispatcher.submit(record, target.input);
      return c.json({ id: record.id, status: 'queued' as const, url }, 202);
    }
    await services.store.create(record);
    if (record.mode === 'stream') return streamRun(c, services, record, target.input);
    // A client that hangs up before the run settles cancels it: nobody would read the answer.
    const settled = await services.executor.start(record, target.input, { clientSignal: c.req.raw.signal })
      .settled;
    return c.json(toView(settled), 200);
  });

  app.get('/v1/runs', async (c) => {
    const query = runListQuerySchema.safeParse(c.req.query());
    if (!query.success) throw invalidInput('query', query.error);
    const { status, limit = 50 } = query.data;
    const records = await services.store.list(c.get('caller').tenant, status ? { status, limit } : { limit });
    // A list is for finding a run; its answer can be large, so it is read one run at a time.
    const runs = records.map((record) => {
      const { result: _result, output: _output, ...view } = toView(record);
      return view;
    });
    return c.json({ runs }, 200);
  });

  app.get('/v1/runs/:id', async (c) => {
    const record = await findRun(services, c.get('caller').tenant, c.req.param('id'));
    return c.json(toView(record), 200);
  });

  app.post('/v1/runs/:id/cancel', async (c) => {
    const tenant = c.get('caller').tenant;
    const id = c.req.param('id');
    const record = await findRun(services, tenant, id);
    if (isFinalStatus(toView(record).status)) throw finished(record);
    const reason = new BatonError('ABORTED', 'The run was cancelled (POST /v1/runs/{id}/cancel)').toJSON();
    const updated = await services.store.update(tenant, id, (current) => {
      if (isFinalStatus(current.status)) return undefined;
      const now = Date.now();
      // Not started yet: it ends here, and whoever dequeues it finds it over.
      if (current.status === 'queued') {
        return {
          ...current,
          cancelRequested: true,
          status: 'aborted',
          endedAt: now,
          updatedAt: now,
          error: reason,
        };
      }
      return { ...current, cancelRequested: true, updatedAt: now };
    });
    if (!updated) throw unknownRun(id);
    if (!updated.cancelRequested) throw finished(updated);
    // The run may be in this process: stop it at once rather than when the store's notice arrives.
    services.executor.cancelLocal(tenant, id);
    return c.json(toView(updated), 202);
  });
}

async function findRun(services: GatewayServices, tenant: string, id: string): Promise<RunRecord> {
  if (!runIdSchema.safeParse(id).success) throw unknownRun(id);
  const record = await services.store.get(tenant, id);
  if (!record) throw unknownRun(id);
  return record;
}

function unknownRun(id: string): BatonError {
  return new BatonError('RUN_UNKNOWN', `No run "${id}"`, { details: { id } });
}

function finished(record: RunRecord): BatonError {
  return new BatonError('RUN_FINISHED', `Run ${record.id} already ended (${record.status})`, {
    details: { id: record.id, status: record.status },
  });
}
