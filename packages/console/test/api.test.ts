import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConsoleServer, serveConsole } from '@baton/console';
import { fileApprovals } from '@baton/core';
import { catalogueTeam } from '@baton/teams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StateDir, stateDir, testRunner } from './fixtures.js';

let state: StateDir;
let server: ConsoleServer;
let uiDir: string;

async function get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, server.url));
  return { status: response.status, body: (await response.json()) as T };
}

async function post<T = Record<string, unknown>>(
  path: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls `check` until it returns a value (not undefined) or `ms` pass. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Run {
  runId: string;
  traceId?: string;
  status: string;
  live: boolean;
  name: string;
  user?: string;
  tokens?: { input: number; output: number };
}

const runStatus = (runId: string) => async () => {
  const { body } = await get<{ runs: Run[] }>(`api/runs?q=${runId}`);
  return body.runs.find((run) => run.runId === runId);
};

beforeAll(async () => {
  state = stateDir();
  uiDir = join(state.dir, 'ui');
  mkdirSync(join(uiDir, 'assets'), { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(uiDir, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(join(state.dir, 'secret.txt'), 'do not serve');
  const evalDir = join(state.dir, 'results');
  mkdirSync(evalDir);
  writeFileSync(join(evalDir, 'eval-research.json'), JSON.stringify({ suite: 'research', passRate: 0.9 }));
  writeFileSync(join(evalDir, 'notes.json'), '{}');
  server = await serveConsole({
    traceDir: state.traceDir,
    journalDir: state.journalDir,
    approvalsDir: state.approvalsDir,
    runner: testRunner(state),
    evalDir,
    uiDir,
    port: 0,
    pollMs: 100,
  });
});

afterAll(async () => {
  await server?.close();
  await state?.provider.shutdown();
});

describe('the console API', () => {
  let researchRun = '';

  it('starts a catalogue team, lists it live, then finished with its figures', async () => {
    const events = await openEvents();
    const started = await post<{ runId: string }>('api/runs', {
      team: 'research',
      topic: 'retries and budgets',
      user: 'ana',
    });
    expect(started.status).toBe(202);
    researchRun = started.body.runId;
    // The SSE feed reports the new run.
    await events.next('change after the start');
    const finished = await until('the research run to finish', async () => {
      const run = await runStatus(researchRun)();
      return run && !run.live && run.status === 'completed' && run.traceId ? run : undefined;
    });
    events.close();
    expect(finished).toMatchObject({ name: 'research', user: 'ana', status: 'completed' });
    expect(finished.tokens?.input).toBeGreaterThan(0);
  });

  it('shows a run: every member in the waterfall, handoffs with payloads, agents, tools, stop reason, budget', async () => {
    const { status, body } = await get<{
      spans: { operation: string; agent?: string; service: string }[];
      handoffs: { from: string; to: string; input?: unknown }[];
      agents: { agent: string; steps: number }[];
      tools: { tool: string; args?: unknown; result?: unknown; status: string }[];
      stopReason?: { kind: string };
      budget?: { limits: Record<string, number>; used: Record<string, number> };
      journaled: boolean;
    }>(`api/runs/${researchRun}`);
    expect(status).toBe(200);
    const operations = new Set(body.spans.map((span) => span.operation));
    for (const operation of ['invoke_workflow', 'handoff', 'invoke_agent', 'chat', 'execute_tool']) {
      expect(operations).toContain(operation);
    }
    const agents = new Set(
      body.spans.filter((span) => span.operation === 'invoke_agent').map((span) => span.agent),
    );
    expect([...agents].sort()).toEqual(['researcher', 'reviewer', 'writer']);
    expect(body.handoffs[0]).toMatchObject({
      from: 'user',
      to: 'researcher',
      input: { topic: 'retries and budgets' },
    });
    expect(body.agents.map((row) => row.agent).sort()).toEqual(['researcher', 'reviewer', 'writer']);
    const search = body.tools.find((call) => call.tool === 'search_corpus');
    expect(search).toMatchObject({ status: 'ok' });
    expect(search?.args).toHaveProperty('query');
    expect(search?.result).toBeDefined();
    expect(body.stopReason?.kind).toBe('completed');
    expect(body.budget?.limits.maxTokens).toBeGreaterThan(0);
    expect(body.budget?.used.tokens).toBeGreaterThan(0);
    expect(body.journaled).toBe(true);
  });

  it('a team run that was traced but never journaled shows its budget from its span', async () => {
    const entry = catalogueTeam('research');
    const result = await entry.create().run(entry.input('retries and budgets'), { tracer: state.tracer });
    expect(result.status).toBe('completed');
    await state.provider.forceFlush();
    const body = await until('the traced run', async () => {
      const { status, body } = await get<{
        budget?: { limits: Record<string, number>; used: Record<string, number> };
        journaled: boolean;
      }>(`api/runs/${result.runId}`);
      return status === 200 ? body : undefined;
    });
    expect(body.journaled).toBe(false);
    expect(body.budget?.limits.maxTokens).toBe(result.budget.limits.maxTokens);
    expect(body.budget?.used).toMatchObject({
      tokens: result.budget.used.tokens,
      steps: result.budget.used.steps,
    });
    expect(body.budget?.used.tokens).toBeGreaterThan(0);
  });

  it('finds a run by trace id, filters and searches the list', async () => {
    const run = (await runStatus(researchRun)()) as Run;
    expect((await get(`api/runs/${run.traceId}`)).status).toBe(200);
    expect((await get(`api/runs/${run.traceId?.slice(0, 10)}`)).status).toBe(200);
    const byTrace = await get<{ runs: Run[] }>(`api/runs?q=${run.traceId?.slice(0, 12)}`);
    expect(byTrace.body.runs.map((r) => r.runId)).toEqual([researchRun]);
    expect(
      (await get<{ runs: Run[] }>('api/runs?team=research&status=completed&user=ana')).body.runs.map(
        (r) => r.runId,
      ),
    ).toContain(researchRun);
    expect((await get<{ runs: Run[] }>('api/runs?user=nobody')).body.runs).toEqual([]);
    expect((await get<{ runs: Run[] }>(`api/runs?since=${Date.now() + 60_000}`)).body.runs).toEqual([]);
    const missing = await get<{ error: { code: string } }>('api/runs/no-such-run');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('RUN_UNKNOWN');
    expect((await get('api/runs?since=yesterday-ish')).status).toBe(422);
  });

  it('lists a pending destructive call, refuses an edit the schema rejects, records who approved, and the run completes', async () => {
    const started = await post<{ runId: string }>('api/runs', {
      team: 'cleanup',
      topic: 'drop sessions',
      user: 'ana',
    });
    expect(started.status).toBe(202);
    const runId = started.body.runId;
    const pending = await until('the call to wait for a decision', async () => {
      const { body } = await get<{
        approvals: {
          runId: string;
          toolCallId: string;
          teamRunId?: string;
          tool: string;
          risk: string;
          preview?: unknown;
          schema?: unknown;
        }[];
      }>('api/approvals');
      return body.approvals.find((record) => record.teamRunId === runId);
    });
    expect(pending).toMatchObject({
      tool: 'drop_table',
      risk: 'destructive',
      preview: 'drop the table sessions',
    });
    expect(
      (
        await until('the run to show as paused', async () => {
          const run = await runStatus(runId)();
          return run?.status === 'awaiting_approval' ? run : undefined;
        })
      ).live,
    ).toBe(true);
    const path = `api/approvals/${pending.runId}/${pending.toolCallId}`;
    const bad = await post<{ error: { code: string; details: { issues: { path: string }[] } } }>(path, {
      action: 'edit',
      user: 'ana',
      args: { table: 'users', cascade: 'yes' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('TOOL_INPUT_INVALID');
    expect(bad.body.error.details.issues.map((issue) => issue.path).sort()).toEqual(['cascade', 'table']);
    expect((await post(path, { action: 'approve', user: '  ' })).status).toBe(422);
    expect((await post(path, 'not json')).status).toBe(422);
    const edited = await post<{ approval: { status: string; decidedBy: string; decidedAt: number } }>(path, {
      action: 'edit',
      user: 'ana',
      args: { table: 'carts', cascade: true },
    });
    expect(edited.status).toBe(200);
    expect(edited.body.approval.status).toBe('edited');
    expect(edited.body.approval.decidedBy).toContain('ana');
    expect(edited.body.approval.decidedAt).toBeGreaterThan(Date.now() - 600_000);
    const again = await post<{ error: { code: string } }>(path, { action: 'deny', user: 'bob' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('APPROVAL_DECIDED');
    // The durable store has the decision, as `baton approvals` would read it.
    const record = await fileApprovals({ dir: state.approvalsDir }).get(pending.runId, pending.toolCallId);
    expect(record?.decision).toEqual({ decision: 'edit', args: { table: 'carts', cascade: true } });
    await until('the cleanup run to complete', async () => {
      const run = await runStatus(runId)();
      return run?.status === 'completed' && !run.live ? run : undefined;
    });
    const detail = await get<{
      tools: { tool: string; args: unknown; result: unknown; approval?: { status: string; by?: string } }[];
    }>(`api/runs/${runId}`);
    const call = detail.body.tools.find((row) => row.tool === 'drop_table');
    expect(call?.args).toEqual({ table: 'carts', cascade: true });
    expect(call?.result).toEqual({ dropped: 'carts', cascade: true });
    expect(call?.approval).toMatchObject({ status: 'edited' });
    expect((await get<{ approvals: unknown[] }>('api/approvals')).body.approvals).toEqual([]);
    expect(
      (await get<{ approvals: unknown[] }>('api/approvals?status=all')).body.approvals.length,
    ).toBeGreaterThan(0);
  });

  it('refuses to start unknown teams and bad requests', async () => {
    expect((await post('api/runs', { team: 'nope', topic: 'x', user: 'ana' })).status).toBe(404);
    expect((await post('api/runs', { team: 'research', topic: '', user: 'ana' })).status).toBe(422);
    expect((await get('api/teams')).body).toMatchObject({ canStart: true });
  });

  it('computes metrics from the runs and lists eval reports', async () => {
    const metrics = await get<{
      points: { runId: string; tokens?: number; durationMs?: number }[];
      totals: { runs: number; completed: number };
    }>('api/metrics');
    expect(metrics.body.totals.runs).toBeGreaterThanOrEqual(2);
    expect(metrics.body.totals.completed).toBe(metrics.body.totals.runs);
    expect(metrics.body.points.find((point) => point.runId === researchRun)?.tokens).toBeGreaterThan(0);
    const evals = await get<{ reports: { file: string; report: unknown }[] }>('api/evals');
    expect(evals.body.reports).toEqual([
      expect.objectContaining({ file: 'eval-research.json', report: { suite: 'research', passRate: 0.9 } }),
    ]);
  });

  it('serves the pages, redirects a mount without its slash, and nothing outside the UI directory', async () => {
    const page = await fetch(server.url);
    expect(page.headers.get('content-type')).toContain('text/html');
    const asset = await fetch(new URL('assets/app-1.js', server.url));
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const outside = await fetch(new URL('/..%2Fsecret.txt', server.url));
    expect(await outside.text()).not.toContain('do not serve');
    expect((await get('api/nothing')).status).toBe(404);
  });
});

/** The console's SSE feed, read with a real HTTP client. */
async function openEvents(): Promise<{ next(what: string): Promise<string>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(new URL('api/events', server.url), { signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let seen = 0;
  return {
    async next(what) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const events = buffer.split('\n\n').filter((event) => event.includes('event: change'));
        // The first event is the state at connection time; the next ones are changes.
        if (events.length > Math.max(seen, 1)) {
          seen = events.length;
          return events.at(-1) as string;
        }
        if (Date.now() > deadline) throw new Error(`no SSE event: ${what}`);
        const chunk = await reader.read();
        if (chunk.done) throw new Error('the SSE stream ended');
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    close: () => controller.abort(),
  };
}
