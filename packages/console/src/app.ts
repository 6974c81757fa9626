import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ApprovalRecord,
  type ApprovalStore,
  BatonError,
  fileApprovals,
  fileJournal,
  type RunJournal,
} from '@baton/core';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { decide, decisionBodySchema, forBrowser, userSchema } from './approvals.js';
import { evalReports, metricsOf } from './insights.js';
import { runDetail } from './run-detail.js';
import { type ActiveRun, RunData } from './runs.js';
import { defaultUiDir, readStatic } from './static.js';
import type { ConsoleOptions, RunSummary } from './types.js';

const listQuerySchema = z.object({
  status: z.string().trim().max(40).optional(),
  team: z.string().trim().max(200).optional(),
  user: z.string().trim().max(200).optional(),
  /** Epoch ms or an ISO date. */
  since: z.string().trim().max(40).optional(),
  until: z.string().trim().max(40).optional(),
  /** A run id or trace id, or a part of one. */
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
});

const startBodySchema = z.object({
  team: z.string().trim().min(1).max(200),
  topic: z.string().trim().min(1, 'give a topic').max(2_000),
  user: userSchema,
});

const STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  RUN_UNKNOWN: 404,
  TEAM_UNKNOWN: 404,
  APPROVAL_UNKNOWN: 404,
  APPROVAL_DECIDED: 409,
  INPUT_INVALID: 422,
  TOOL_INPUT_INVALID: 422,
  CONFIG_INVALID: 501,
};

function statusOf(error: BatonError): number {
  return STATUS[error.code] ?? (error.category === 'user' ? 400 : 500);
}

function invalid(what: string, error: z.ZodError): BatonError {
  return new BatonError(
    'INPUT_INVALID',
    `Invalid ${what}: ${error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ')}`,
    {
      details: {
        issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      },
    },
  );
}

async function readBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new BatonError('INPUT_INVALID', 'The request body is not JSON', { details: { reason: 'json' } });
  }
}

function timeOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  const ms = Number.isFinite(number) ? number : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new BatonError('INPUT_INVALID', `Not a time: "${value}" (epoch ms or ISO date)`);
  return ms;
}

/**
 * The console: a JSON + SSE API over the run data (trace files, journals, durable approvals), and the
 * built front-end as static files. Mount it anywhere (`baton view` serves it at `/`, the gateway at
 * `/ui`): the pages call the API by relative URLs.
 *
 *   GET  api/runs             the runs list (status, team, user, since, until, q, limit)
 *   GET  api/runs/:id         a run (by run id or trace id): waterfall, handoffs, agents, tools, stop, budget
 *   POST api/runs             start a team { team, topic, user } (when a runner is given)
 *   GET  api/teams            the teams a run can be started with
 *   GET  api/events           SSE: `change` whenever the run data changes
 *   GET  api/approvals        pending calls (status=all for every record)
 *   POST api/approvals/:runId/:callId   { action: approve | edit | deny, user, args?, reason? }
 *   GET  api/metrics          per-run series and the success rate over time
 *   GET  api/evals            eval and A/B reports
 */
export function consoleApp(options: ConsoleOptions): Hono {
  const journal: RunJournal | undefined =
    options.journal ?? (options.journalDir ? fileJournal({ dir: options.journalDir }) : undefined);
  const approvals: ApprovalStore | undefined =
    options.approvals ?? (options.approvalsDir ? fileApprovals({ dir: options.approvalsDir }) : undefined);
  const data = new RunData(options.traceDir, journal);
  const active = new Map<string, ActiveRun>();
  /** Who started the runs started here: a journal does not record it, and a trace may lag the end. */
  const startedBy = new Map<string, string>();
  const uiDir = options.uiDir ?? defaultUiDir();
  const pollMs = options.pollMs ?? 500;
  const app = new Hono();

  app.onError((error, c) => {
    const batonError = BatonError.is(error) ? error : BatonError.wrap(error);
    const status = statusOf(batonError);
    const { cause: _cause, ...json } = batonError.toJSON();
    const body =
      status >= 500 && status !== 501
        ? {
            error: {
              code: batonError.code,
              category: batonError.category,
              message: 'The console failed to handle the request',
            },
          }
        : { error: json };
    if (status >= 500 && status !== 501)
      console.error(`baton console: ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`);
    return c.json(body, status as 500);
  });

  const pendingApprovals = async (): Promise<ApprovalRecord[]> =>
    approvals ? (await approvals.list({})).map((record) => forBrowser(record)) : [];

  const findRun = async (id: string): Promise<RunSummary> => {
    const runs = await data.list(active, startedBy);
    const lower = id.toLowerCase();
    const run =
      runs.find((r) => r.runId === id) ??
      runs.find((r) => r.traceId === lower) ??
      (lower.length >= 6 ? runs.filter((r) => r.traceId?.startsWith(lower)) : []).at(0);
    if (!run) throw new BatonError('RUN_UNKNOWN', `No run or trace "${id}" in ${options.traceDir}`);
    return run;
  };

  app.get('/api/health', (c) =>
    c.json({
      status: 'ok',
      traceDir: options.traceDir,
      journal: journal !== undefined,
      approvals: approvals !== undefined,
      canStart: options.runner !== undefined,
    }),
  );

  app.get('/api/runs', async (c) => {
    const query = listQuerySchema.safeParse(c.req.query());
    if (!query.success) throw invalid('query', query.error);
    const { status, team, user, q, limit } = query.data;
    const since = timeOf(query.data.since);
    const until = timeOf(query.data.until);
    const needle = q?.toLowerCase();
    const runs = (await data.list(active, startedBy)).filter(
      (run) =>
        (!status || run.status === status || (status === 'live' && run.live)) &&
        (!team || run.name === team) &&
        (!user || run.user === user) &&
        (since === undefined || run.startedMs >= since) &&
        (until === undefined || run.startedMs <= until) &&
        (!needle || run.runId.toLowerCase().includes(needle) || (run.traceId ?? '').includes(needle)),
    );
    return c.json({ runs: runs.slice(0, limit ?? 200), total: runs.length });
  });

  app.get('/api/runs/:id', async (c) => {
    const run = await findRun(c.req.param('id'));
    const records = approvals ? (await approvals.list({})).map((record) => forBrowser(record)) : [];
    return c.json(await runDetail(data, run, records));
  });

  app.get('/api/teams', (c) =>
    c.json({ teams: options.runner?.teams() ?? [], canStart: options.runner !== undefined }),
  );

  app.post('/api/runs', async (c) => {
    const runner = options.runner;
    if (!runner)
      throw new BatonError('CONFIG_INVALID', 'This console cannot start runs', {
        hint: 'Start runs with `baton view`, or from the CLI',
      });
    const body = startBodySchema.safeParse(await readBody(c));
    if (!body.success) throw invalid('run request', body.error);
    const known = runner.teams().some((team) => team.name === body.data.team);
    if (!known) {
      throw new BatonError('TEAM_UNKNOWN', `Unknown team "${body.data.team}"`, {
        details: { valid: runner.teams().map((team) => team.name) },
      });
    }
    const started = await runner.start(body.data);
    startedBy.set(started.runId, body.data.user);
    if (startedBy.size > 10_000) startedBy.delete(startedBy.keys().next().value as string);
    active.set(started.runId, {
      runId: started.runId,
      team: body.data.team,
      user: body.data.user,
      startedMs: Date.now(),
    });
    started.done.catch(() => undefined).finally(() => active.delete(started.runId));
    return c.json({ runId: started.runId }, 202);
  });

  app.get('/api/approvals', async (c) => {
    const status = c.req.query('status') ?? 'pending';
    const all = await pendingApprovals();
    const records = status === 'all' ? all : all.filter((record) => record.status === status);
    return c.json({
      approvals: records.sort((a, b) => b.requestedAt - a.requestedAt),
      enabled: approvals !== undefined,
    });
  });

  app.post('/api/approvals/:runId/:callId', async (c) => {
    if (!approvals) throw new BatonError('CONFIG_INVALID', 'This console has no approval store');
    const body = decisionBodySchema.safeParse(await readBody(c));
    if (!body.success) throw invalid('decision', body.error);
    const record = await decide(approvals, c.req.param('runId'), c.req.param('callId'), body.data);
    return c.json({ approval: forBrowser(record) });
  });

  app.get('/api/metrics', async (c) => c.json(metricsOf(await data.list(active, startedBy))));
  app.get('/api/evals', (c) =>
    c.json({ reports: evalReports(options.evalDir), dir: options.evalDir ?? null }),
  );

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let closed = false;
      stream.onAbort(() => {
        closed = true;
      });
      let last = '';
      let version = 0;
      let quietSince = Date.now();
      // A stream ends after a while and the browser reconnects (`retry`): an open page never holds a
      // server's shutdown for long.
      const endAt = Date.now() + 30_000;
      while (!closed && Date.now() < endAt) {
        const now = fingerprint(data, options, active);
        if (now !== last) {
          last = now;
          version++;
          quietSince = Date.now();
          await stream.writeSSE({
            event: 'change',
            data: JSON.stringify({ version, live: active.size }),
            retry: 1_000,
          });
        } else if (Date.now() - quietSince > 15_000) {
          quietSince = Date.now();
          await stream.write(': keep-alive\n\n');
        }
        await stream.sleep(pollMs);
      }
    }),
  );

  app.all('/api/*', (c) => {
    throw new BatonError('NOT_FOUND', `No API route ${c.req.method} ${c.req.path}`);
  });

  app.get('*', (c) => {
    const path = c.req.path;
    const mount = c.req.routePath === '*' ? '' : c.req.routePath.replace(/\/?\*$/, '');
    const relative = mount && path.startsWith(mount) ? path.slice(mount.length) : path;
    // The pages call `api/...` relative to themselves: the root must end with a slash.
    if (relative === '' && !path.endsWith('/')) return c.redirect(`${path}/`, 301);
    const file = readStatic(uiDir, relative.split('?')[0] ?? '') ?? readStatic(uiDir, 'index.html');
    if (!file) {
      return c.html(
        '<!doctype html><html lang="en"><title>Baton console</title><main><h1>Baton console</h1><p>The console front-end is not built. Run <code>npm run build:ui -w @baton/console</code>.</p></main></html>',
        503,
      );
    }
    c.header('content-type', file.type);
    c.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    c.header('x-content-type-options', 'nosniff');
    return c.body(file.body as Uint8Array<ArrayBuffer>);
  });

  return app;
}

/** What changed on disk (or in this process) since the last look: trace files, journals, approvals, live runs. */
function fingerprint(data: RunData, options: ConsoleOptions, active: ReadonlyMap<string, ActiveRun>): string {
  const parts: string[] = [];
  for (const [id, signature] of data.traceFiles()) parts.push(`${id}=${signature}`);
  parts.push(`index=${statSignature(join(options.traceDir, 'index.jsonl'))}`);
  if (options.journalDir && !options.journal) parts.push(`journal=${dirSignature(options.journalDir)}`);
  if (options.approvalsDir && !options.approvals)
    parts.push(`approvals=${dirSignature(options.approvalsDir)}`);
  // Stores this process cannot stat (NATS): look again every few seconds.
  if (options.journal || options.approvals) parts.push(`tick=${Math.floor(Date.now() / 3_000)}`);
  parts.push(`active=${[...active.keys()].join(',')}`);
  return parts.join('|');
}

function dirSignature(dir: string): string {
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return 'none';
  }
  return files.map((file) => `${file}:${statSignature(join(dir, file))}`).join(';');
}

function statSignature(path: string): string {
  try {
    const stats = statSync(path);
    return `${stats.size}-${stats.mtimeMs}`;
  } catch {
    return 'none';
  }
}
