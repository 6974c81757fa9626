import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, pollRun } from './helpers.js';

// NATS mode with real processes: a gateway SIGKILLed after it accepted a job, a new one started, and
// the job still completes — the work queue redelivers it and the run's record and journal are on NATS.

const GATEWAY = fileURLToPath(new URL('./fixtures/gateway-process.ts', import.meta.url));
const KEY = 'nats-test-key-0123456789';
const keys = [{ id: 'acme', key: KEY, tenant: 'acme' }];

interface GatewayProcess {
  url: string;
  child: ChildProcess;
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
let nats: NatsServer;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await nats?.stop();
});

async function spawnGateway(instance: string): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@baton/source',
      '--import',
      'tsx',
      GATEWAY,
      JSON.stringify({ nats: nats.url, instance, keys, ackWaitMs: 1_000 }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const match = /READY (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`gateway ${instance} exited (${code}): ${stderr}`)));
  });
  return {
    url,
    child,
    kill: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

describe('NATS mode', () => {
  it('a job accepted by a gateway that is then SIGKILLed completes on the restarted gateway', async () => {
    const first = await spawnGateway('gw-1');
    const accepted = await call(first, '/v1/runs', {
      key: KEY,
      body: { agent: 'slow', input: { ms: 1_500 }, async: true },
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    await pollRun(first, id, (run) => run.status === 'running', { key: KEY });
    await first.kill();

    const second = await spawnGateway('gw-2');
    // The record is on NATS: the new gateway knows the job before it runs it again.
    const seen = await call(second, `/v1/runs/${id}`, { key: KEY });
    expect(seen.status).toBe(200);
    const done = await pollRun(second, id, (run) => run.status === 'completed', {
      key: KEY,
      timeoutMs: 60_000,
    });
    expect(done).toMatchObject({ id, mode: 'async', output: 'waited' });
    expect(done.result.status).toBe('completed');
  });

  it('runs sync, and a cancel sent to one gateway stops the job another gateway runs', async () => {
    const a = await spawnGateway('gw-a');
    const b = await spawnGateway('gw-b');
    const sync = await call(a, '/v1/runs', { key: KEY, body: { agent: 'echo', input: { text: 'n' } } });
    expect(sync.body).toMatchObject({ status: 'completed', output: { text: 'echo:n' } });
    expect((await call(b, `/v1/runs/${sync.body.id}`, { key: KEY })).body.status).toBe('completed');

    const accepted = await call(a, '/v1/runs', {
      key: KEY,
      body: { agent: 'slow', input: { ms: 120_000 }, async: true },
    });
    const id = accepted.body.id as string;
    await pollRun(a, id, (run) => run.status === 'running', { key: KEY });
    const cancel = await call(b, `/v1/runs/${id}/cancel`, { key: KEY, method: 'POST' });
    expect(cancel.status).toBe(202);
    const ended = await pollRun(a, id, (run) => run.status !== 'running', { key: KEY });
    expect(ended.status).toBe('aborted');
    // Both runs are in the tenant's bucket (with the earlier test's): any gateway lists them, newest first.
    const listed = await call(b, '/v1/runs', { key: KEY });
    expect(listed.body.runs.map((run: { id: string }) => run.id).slice(0, 2)).toEqual([id, sync.body.id]);
    const aborted = await call(a, '/v1/runs?status=aborted', { key: KEY });
    expect(aborted.body.runs.map((run: { id: string }) => run.id)).toEqual([id]);
    const one = await call(a, '/v1/runs?limit=1', { key: KEY });
    expect(one.body.runs.map((run: { id: string }) => run.id)).toEqual([id]);
  });
});
