import { join } from 'node:path';
import { mountA2a } from '@baton/a2a';
import { consoleApp } from '@baton/console';
import { BatonError } from '@baton/core';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { authenticate, type GatewayEnv } from './auth.js';
import { errorBody, httpStatusOf, notFound } from './http-errors.js';
import { openApiDocument } from './openapi.js';
import { approvalRoutes } from './routes/approvals.js';
import { runRoutes } from './routes/runs.js';
import { a2aRunner } from './runs/a2a-runner.js';
import type { GatewayServices } from './services.js';

export const GATEWAY_VERSION = '0.1.0';

/** JSON Schema of an agent's input, for GET /v1/agents; `{}` when zod cannot express it. */
function inputSchema(schema: z.ZodType): unknown {
  try {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    return rest;
  } catch {
    return {};
  }
}

/**
 * 413 over `maxBytes`. A declared length is checked from the header alone, so the body is then read
 * the fast way (@hono/node-server reads it straight from the socket); only a body without a length
 * (chunked) is counted as it streams in, by Hono's bodyLimit.
 */
function limitBody(maxBytes: number): MiddlewareHandler<GatewayEnv> {
  const tooLarge = () => {
    throw new BatonError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBytes} bytes`, {
      details: { maxBytes },
    });
  };
  const counting = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (!/^\d+$/.test(length) || Number(length) > maxBytes) tooLarge();
      return next();
    }
    return counting(c, next);
  };
}

/**
 * The gateway's HTTP application (Hono): `/health`, `/ready` and `/openapi.json` open; everything under
 * `/v1` behind the API key, its rate limit and the body limit. Every error is typed JSON
 * (`{ "error": { "code", "category", "message", "retryable", ... } }`) with the status its code maps to.
 */
export function createApp(services: GatewayServices, log: (line: string) => void): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  app.onError((error, c) => {
    const batonError = BatonError.is(error) ? error : BatonError.wrap(error);
    const status = httpStatusOf(batonError);
    if (status >= 500) log(`${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`);
    return c.json(errorBody(batonError), status as 500);
  });
  app.notFound((c) => c.json(errorBody(notFound(`route ${c.req.method} ${c.req.path}`)), 404));

  app.get('/health', (c) => c.json({ status: 'ok' as const }, 200));
  app.get('/ready', (c) => {
    const checks = services.readiness();
    const ready = Object.values(checks).every((check) => check === 'ok');
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  });
  const document = openApiDocument(GATEWAY_VERSION);
  app.get('/openapi.json', (c) => c.json(document, 200));

  app.use('/v1/*', authenticate(services.keys, services.config.namespace));
  app.use('/v1/*', limitBody(services.config.maxBodyBytes));

  const teams = Object.values(services.catalogue.teams).map((team) => ({
    name: team.name,
    description: team.description,
    members: [...team.members],
  }));
  const agents = Object.values(services.catalogue.agents).map((agent) => ({
    name: agent.name,
    description: agent.description,
    contract: agent.contract.id,
    input: inputSchema(agent.contract.input),
  }));
  app.get('/v1/teams', (c) => c.json({ teams }, 200));
  app.get('/v1/agents', (c) => c.json({ agents }, 200));

  runRoutes(app, services);
  approvalRoutes(app, services);
  // The web console (issue 17) at /ui: the pages of `baton view` over this directory's trace files and the
  // open namespace's approvals. Its API is behind the API key, for that namespace's callers only.
  app.use('/ui/api/*', authenticate(services.keys, services.config.namespace));
  app.use('/ui/api/*', async (c, next) => {
    if (c.get('caller').tenant !== services.config.namespace) {
      throw new BatonError(
        'UNAUTHORIZED',
        `The console shows the runs of namespace "${services.config.namespace}" only`,
      );
    }
    await next();
  });
  app.route(
    '/ui',
    consoleApp({
      traceDir: process.env.BATON_TRACE_DIR?.trim() || join(process.cwd(), '.baton', 'traces'),
      approvals: services.stores.approvals(services.config.namespace),
    }),
  );
  // A2A (issue 18): POST /a2a/:name (JSON-RPC) behind the API key; its agent card stays public.
  mountA2a(app, {
    catalogue: services.catalogue,
    guard: [authenticate(services.keys, services.config.namespace), limitBody(services.config.maxBodyBytes)],
    tenant: (c) => c.get('caller').tenant,
    members: (tenant) => services.stores.members(tenant),
    timeoutMs: services.config.runs.timeoutMs,
    // Tasks run through the executor: a run record, a journal, durable approvals, like POST /v1/runs.
    runner: (tenant, target) => a2aRunner(services, tenant, target),
    log,
    ...(services.bus ? { nats: services.bus } : {}),
  });
  return app;
}
