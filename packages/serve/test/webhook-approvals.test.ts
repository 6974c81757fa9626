import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../src/index.js';
import { refunds } from './fixtures/catalogue.js';
import { call, pollRun, startTestGateway } from './helpers.js';

const SECRET = 'webhook-secret-0123456789';

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP receiver: answers each delivery with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const deliveries: Delivery[] = [];
  let notify: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
      notify?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    async next(count: number, timeoutMs = 30_000): Promise<Delivery[]> {
      const deadline = Date.now() + timeoutMs;
      while (deliveries.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${deliveries.length} of ${count} deliveries`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 200);
        });
      }
      return deliveries;
    },
  };
}
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

describe('webhooks', () => {
  it('POSTs the result of an async run, signed with HMAC-SHA256, retrying a failing receiver', async () => {
    const hook = await receiver([503]);
    const server = await startTestGateway({
      config: { webhook: { secret: SECRET, backoffMs: 20, maxBackoffMs: 100, maxAttempts: 4 } },
    });
    const accepted = await call(server, '/v1/runs', {
      body: { agent: 'echo', input: { text: 'hook' }, async: true, webhook: { url: hook.url } },
    });
    expect(accepted.status).toBe(202);
    const [first, second] = await hook.next(2);
    // One delivery id across the retry, so a receiver drops a duplicate.
    expect(second?.headers['baton-delivery']).toBe(first?.headers['baton-delivery']);
    expect(second?.headers['baton-event']).toBe('run.finished');

    // Checked here from first principles: HMAC-SHA256 over "<t>.<body>" with the shared secret.
    const header = String(second?.headers['baton-signature']);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match).not.toBeNull();
    const expected = createHmac('sha256', SECRET).update(`${match?.[1]}.${second?.body}`).digest('hex');
    expect(match?.[2]).toBe(expected);
    expect(verifyWebhook(SECRET, second?.body ?? '', header)).toBe(true);
    expect(verifyWebhook('another-secret-0123456', second?.body ?? '', header)).toBe(false);
    expect(verifyWebhook(SECRET, `${second?.body} `, header)).toBe(false);

    const payload = JSON.parse(second?.body ?? '{}');
    expect(payload).toMatchObject({
      event: 'run.finished',
      run: { id: accepted.body.id, status: 'completed', output: { text: 'echo:hook' } },
    });
    const run = await pollRun(server, accepted.body.id, (body) => body.webhook?.delivered === true);
    expect(run.webhook).toMatchObject({ url: hook.url, attempts: 2, delivered: true, lastStatus: 200 });
  });

  it('gives up after maxAttempts, and not at all on a 4xx that retrying cannot fix', async () => {
    const failing = await receiver([500, 500, 500]);
    const refusing = await receiver([410]);
    const server = await startTestGateway({
      config: { webhook: { secret: SECRET, backoffMs: 10, maxBackoffMs: 50, maxAttempts: 3 } },
    });
    const a = await call(server, '/v1/runs', {
      body: { agent: 'echo', input: { text: 'a' }, async: true, webhook: { url: failing.url } },
    });
    const b = await call(server, '/v1/runs', {
      body: { agent: 'echo', input: { text: 'b' }, async: true, webhook: { url: refusing.url } },
    });
    const ranA = await pollRun(server, a.body.id, (body) => body.webhook?.attempts !== undefined);
    expect(ranA.webhook).toMatchObject({ attempts: 3, delivered: false, lastStatus: 500 });
    const ranB = await pollRun(server, b.body.id, (body) => body.webhook?.attempts !== undefined);
    expect(ranB.webhook).toMatchObject({ attempts: 1, delivered: false, lastStatus: 410 });
    expect(failing.deliveries).toHaveLength(3);
  });

  it('refuses a webhook with no secret to sign it, on a sync run, or to a host off the allow-list', async () => {
    const unsigned = await startTestGateway();
    const url = 'http://127.0.0.1:9/hook';
    const noSecret = await call(unsigned, '/v1/runs', {
      body: { agent: 'echo', input: { text: 'a' }, async: true, webhook: { url } },
    });
    expect(noSecret.status).toBe(422);
    const server = await startTestGateway({
      config: { webhook: { secret: SECRET, allowHosts: ['hooks.example'] } },
    });
    const sync = await call(server, '/v1/runs', {
      body: { agent: 'echo', input: { text: 'a' }, webhook: { url } },
    });
    expect(sync.status).toBe(422);
    const offList = await call(server, '/v1/runs', {
      body: { agent: 'echo', input: { text: 'a' }, async: true, webhook: { url } },
    });
    expect(offList.status).toBe(422);
    expect(offList.body.error.message).toContain('127.0.0.1');
  });

  it('signs so that a stale or altered delivery does not verify', () => {
    const body = '{"a":1}';
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhook(SECRET, body, signWebhook(SECRET, body, now))).toBe(true);
    expect(verifyWebhook(SECRET, body, signWebhook(SECRET, body, now - 3_600))).toBe(false);
    expect(verifyWebhook(SECRET, body, 'garbage')).toBe(false);
  });
});

describe('approvals', () => {
  it('a run that needs a person pauses; list, approve over HTTP, and the run finishes', async () => {
    const server = await startTestGateway();
    const before = refunds.length;
    const paused = await call(server, '/v1/runs', {
      body: { agent: 'refunder', input: { order: 'A-1', amount: 5 }, id: 'refund-approve' },
    });
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('awaiting_approval');
    expect(paused.body.pending).toHaveLength(1);
    const call0 = paused.body.pending[0];
    expect(call0).toMatchObject({ tool: 'refund', args: { order: 'A-1', amount: 5 } });
    expect(refunds.length).toBe(before);

    const listed = await call(server, '/v1/approvals');
    expect(listed.status).toBe(200);
    expect(listed.body.approvals).toHaveLength(1);
    expect(listed.body.approvals[0]).toMatchObject({
      runId: 'refund-approve',
      status: 'pending',
      risk: 'destructive',
    });
    const ofRun = await call(server, '/v1/approvals?run=refund-approve&status=all');
    expect(ofRun.body.approvals).toHaveLength(1);
    const shown = await call(server, `/v1/approvals/${call0.runId}/${call0.toolCallId}`);
    expect(shown.body.tool).toBe('refund');

    const approved = await call(server, `/v1/approvals/${call0.runId}/${call0.toolCallId}/approve`, {
      body: { by: 'alice' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'alice (key open)' });
    const twice = await call(server, `/v1/approvals/${call0.runId}/${call0.toolCallId}/deny`, { body: {} });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('APPROVAL_DECIDED');

    const done = await pollRun(
      server,
      'refund-approve',
      (run) => run.status !== 'awaiting_approval' && run.status !== 'running',
    );
    expect(done.status).toBe('completed');
    expect(done.output).toBe('refund handled');
    expect(refunds.slice(before)).toEqual([{ order: 'A-1', amount: 5 }]);
  });

  it('edit runs the tool with the edited arguments; deny tells the agent and runs nothing', async () => {
    const server = await startTestGateway();
    const before = refunds.length;
    const edited = await call(server, '/v1/runs', {
      body: { agent: 'refunder', input: { order: 'B-2', amount: 500 }, async: true, id: 'refund-edit' },
    });
    expect(edited.status).toBe(202);
    const pausedEdit = await pollRun(server, 'refund-edit', (run) => run.status === 'awaiting_approval');
    const editCall = pausedEdit.pending[0];
    const badEdit = await call(server, `/v1/approvals/${editCall.runId}/${editCall.toolCallId}/edit`, {
      body: {},
    });
    expect(badEdit.status).toBe(422);
    const edit = await call(server, `/v1/approvals/${editCall.runId}/${editCall.toolCallId}/edit`, {
      body: { args: { order: 'B-2', amount: 50 } },
    });
    expect(edit.body.status).toBe('edited');
    await pollRun(server, 'refund-edit', (run) => run.status === 'completed');
    expect(refunds.slice(before)).toEqual([{ order: 'B-2', amount: 50 }]);

    await call(server, '/v1/runs', {
      body: { agent: 'refunder', input: { order: 'C-3', amount: 1 }, async: true, id: 'refund-deny' },
    });
    const pausedDeny = await pollRun(server, 'refund-deny', (run) => run.status === 'awaiting_approval');
    const denyCall = pausedDeny.pending[0];
    const deny = await call(server, `/v1/approvals/${denyCall.runId}/${denyCall.toolCallId}/deny`, {
      body: { reason: 'not this one' },
    });
    expect(deny.body.status).toBe('denied');
    const denied = await pollRun(
      server,
      'refund-deny',
      (run) => !['awaiting_approval', 'running'].includes(run.status),
    );
    expect(['completed', 'denied']).toContain(denied.status);
    expect(refunds.slice(before)).toEqual([{ order: 'B-2', amount: 50 }]);
    const unknown = await call(server, '/v1/approvals/refund-deny/nope/approve', { body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('APPROVAL_UNKNOWN');
  });

  it('cancelling a run that waits for people ends it aborted', async () => {
    const server = await startTestGateway();
    await call(server, '/v1/runs', {
      body: { agent: 'refunder', input: { order: 'D-4', amount: 1 }, async: true, id: 'refund-cancel' },
    });
    await pollRun(server, 'refund-cancel', (run) => run.status === 'awaiting_approval');
    expect((await call(server, '/v1/runs/refund-cancel/cancel', { method: 'POST' })).status).toBe(202);
    const ended = await pollRun(server, 'refund-cancel', (run) => run.status !== 'awaiting_approval');
    expect(ended.status).toBe('aborted');
  });
});
