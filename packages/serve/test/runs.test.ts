import { describe, expect, it } from 'vitest';
import { gate } from './fixtures/catalogue.js';
import { call, pollRun, readSse, type SseEvent, startTestGateway } from './helpers.js';

// The gateway's run API in embedded mode, through a real HTTP client against a real listening server.

describe('POST /v1/runs (sync)', () => {
  it('runs a team and answers with its result', async () => {
    const server = await startTestGateway();
    const reply = await call(server, '/v1/runs', { body: { team: 'pair', input: { text: 'hi' } } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ kind: 'team', name: 'pair', mode: 'sync', status: 'completed' });
    expect(reply.body.output).toEqual({ text: 'B:A:hi' });
    expect(reply.body.result.members.first.status).toBe('completed');
    expect(reply.body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(reply.headers.get('baton-run-id')).toBe(reply.body.id);
    // The same run, read back.
    const read = await call(server, `/v1/runs/${reply.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('completed');
  });

  it('runs an agent, and takes a plain-text topic for a team', async () => {
    const server = await startTestGateway();
    const agent = await call(server, '/v1/runs', { body: { agent: 'echo', input: { text: 'yo' } } });
    expect(agent.status).toBe(200);
    expect(agent.body).toMatchObject({ kind: 'agent', status: 'completed', output: { text: 'echo:yo' } });
    const topic = await call(server, '/v1/runs', { body: { team: 'pair', input: 'topic' } });
    expect(topic.body.output).toEqual({ text: 'B:A:topic' });
  });

  it('answers typed errors: unknown names 404, invalid requests and inputs 422, bad JSON 400', async () => {
    const server = await startTestGateway();
    const unknownTeam = await call(server, '/v1/runs', { body: { team: 'nope', input: 'x' } });
    expect(unknownTeam.status).toBe(404);
    expect(unknownTeam.body.error).toMatchObject({
      code: 'TEAM_UNKNOWN',
      category: 'user',
      retryable: false,
    });
    const unknownAgent = await call(server, '/v1/runs', { body: { agent: 'nope', input: {} } });
    expect(unknownAgent.body.error.code).toBe('AGENT_UNKNOWN');
    const both = await call(server, '/v1/runs', { body: { team: 'pair', agent: 'echo', input: 'x' } });
    expect(both.status).toBe(422);
    expect(both.body.error.code).toBe('INPUT_INVALID');
    const extra = await call(server, '/v1/runs', { body: { team: 'pair', input: 'x', colour: 'red' } });
    expect(extra.status).toBe(422);
    const badInput = await call(server, '/v1/runs', { body: { agent: 'echo', input: { text: 5 } } });
    expect(badInput.status).toBe(422);
    expect(badInput.body.error.details.issues[0].path).toEqual(['text']);
    const notJson = await call(server, '/v1/runs', { raw: '{"team":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('INPUT_INVALID');
    const missing = await call(server, '/v1/runs/nope-1');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('RUN_UNKNOWN');
    const route = await call(server, '/v2/things');
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('NOT_FOUND');
    const duplicate = { agent: 'echo', input: { text: 'a' }, id: 'my-run-1' };
    expect((await call(server, '/v1/runs', { body: duplicate })).status).toBe(200);
    const again = await call(server, '/v1/runs', { body: duplicate });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DUPLICATE');
  });
});

describe('GET /v1/runs', () => {
  it("lists the caller's runs newest first, filters by status, and refuses a bad query", async () => {
    const server = await startTestGateway();
    const first = await call(server, '/v1/runs', { body: { team: 'pair', input: { text: 'one' } } });
    const second = await call(server, '/v1/runs', { body: { agent: 'echo', input: { text: 'two' } } });
    const listed = await call(server, '/v1/runs');
    expect(listed.status).toBe(200);
    expect(listed.body.runs.map((run: { id: string }) => run.id)).toEqual([second.body.id, first.body.id]);
    expect(listed.body.runs[0]).toMatchObject({ kind: 'agent', name: 'echo', status: 'completed' });
    // The list is for finding runs: the answers are read one run at a time.
    expect(listed.body.runs[0].output).toBeUndefined();
    expect(listed.body.runs[0].result).toBeUndefined();
    const limited = await call(server, '/v1/runs?limit=1');
    expect(limited.body.runs.map((run: { id: string }) => run.id)).toEqual([second.body.id]);
    const failed = await call(server, '/v1/runs?status=failed');
    expect(failed.body.runs).toEqual([]);
    const bad = await call(server, '/v1/runs?status=done&limit=0');
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('INPUT_INVALID');
  });
});

describe('POST /v1/runs with stream: true', () => {
  it('sends every run event as it happens, then the result', async () => {
    const server = await startTestGateway();
    const door = gate();
    const response = await fetch(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'gated', input: {}, stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const id = response.headers.get('baton-run-id') as string;
    const seen: SseEvent[] = [];
    let openedAt = -1;
    for await (const event of readSse(response)) {
      seen.push(event);
      if (event.event === 'tool.start') {
        // The run is still in flight (its tool waits at the gate): the events were not held back.
        const live = await call(server, `/v1/runs/${id}`);
        expect(live.body.status).toBe('running');
        openedAt = seen.length;
        door.open();
      }
    }
    const names = seen.map((event) => event.event);
    expect(names[0]).toBe('run.accepted');
    expect(JSON.parse(seen[0]?.data ?? '{}').id).toBe(id);
    expect(names).toContain('run.start');
    expect(names).toContain('step.start');
    expect(names).toContain('tool.end');
    expect(names.at(-1)).toBe('result');
    expect(openedAt).toBeGreaterThan(0);
    expect(openedAt).toBeLessThan(seen.length);
    const result = JSON.parse(seen.at(-1)?.data ?? '{}');
    expect(result).toMatchObject({ id, status: 'completed', mode: 'stream' });
    const runEnd = seen.find((event) => event.event === 'run.end');
    expect(JSON.parse(runEnd?.data ?? '{}').result.status).toBe('completed');
    // Event ids count up, so a client can tell it missed none.
    const ids = seen.map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it("streams a team's handoffs", async () => {
    const server = await startTestGateway();
    const response = await fetch(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ team: 'pair', input: { text: 's' }, stream: true }),
    });
    const names: string[] = [];
    for await (const event of readSse(response)) names.push(event.event);
    expect(names.indexOf('team.start')).toBeGreaterThan(0);
    expect(names).toContain('team.handoff');
    expect(names.indexOf('team.end')).toBeLessThan(names.indexOf('result'));
  });
});

describe('POST /v1/runs with async: true', () => {
  it('answers 202 with the id at once; the run is polled until it ends', async () => {
    const server = await startTestGateway();
    const door = gate();
    const accepted = await call(server, '/v1/runs', { body: { agent: 'gated', input: {}, async: true } });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'queued', url: `/v1/runs/${accepted.body.id}` });
    expect(accepted.headers.get('location')).toBe(`/v1/runs/${accepted.body.id}`);
    await door.entered;
    const running = await call(server, `/v1/runs/${accepted.body.id}`);
    expect(running.body).toMatchObject({ status: 'running', mode: 'async' });
    door.open();
    const done = await pollRun(server, accepted.body.id, (run) => run.status === 'completed');
    expect(done.output).toBe('through');
    expect(done.endedAt).toBeGreaterThanOrEqual(done.startedAt);
  });
});

describe('POST /v1/runs/:id/cancel', () => {
  it("aborts the running run through its AbortSignal, down to the tool's signal", async () => {
    const server = await startTestGateway();
    const door = gate();
    const accepted = await call(server, '/v1/runs', { body: { agent: 'gated', input: {}, async: true } });
    await door.entered;
    const cancel = await call(server, `/v1/runs/${accepted.body.id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    expect(cancel.body.cancelRequested).toBe(true);
    await door.aborted;
    const ended = await pollRun(server, accepted.body.id, (run) => run.status !== 'running');
    expect(ended.status).toBe('aborted');
    const again = await call(server, `/v1/runs/${accepted.body.id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RUN_FINISHED');
  });

  it('cancels a sync run from another request, and a client that hangs up cancels its own', async () => {
    const server = await startTestGateway();
    const door = gate();
    const pending = call(server, '/v1/runs', { body: { agent: 'gated', input: {}, id: 'sync-cancel' } });
    await door.entered;
    expect((await call(server, '/v1/runs/sync-cancel/cancel', { method: 'POST' })).status).toBe(202);
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('aborted');

    const second = gate();
    const hangUp = new AbortController();
    const request = fetch(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'gated', input: {}, id: 'hung-up' }),
      signal: hangUp.signal,
    }).catch(() => undefined);
    await second.entered;
    hangUp.abort();
    await request;
    await second.aborted;
    const ended = await pollRun(server, 'hung-up', (run) => run.status !== 'running');
    expect(ended.status).toBe('aborted');
  });
});
