/**
 * Server benchmark (`server`, issue 15): what the HTTP gateway (@baton/serve) costs on top of `run()`.
 *
 * 1. Sync runs of a trivial agent (one scripted model step, no tools) through the gateway, driven by
 *    autocannon with C connections for D seconds, against the same run through `run()` in this process
 *    with C runs in flight (a closed loop). Requests/s and p50/p99, alternated over two rounds so both
 *    see the same moments of a noisy machine. `run()` is measured twice: plain, and with the options the
 *    gateway gives this run (a run id, the approvals store, a cancel signal) — the rest is HTTP and the
 *    gateway.
 * 2. `GET /health` under the same load: the HTTP floor of this server stack on this machine.
 * 3. SSE: `stream: true` requests one after another; time to the first event (`run.accepted`), to the
 *    first run event (`run.start`) and to the `result`, next to a sync request's full response.
 *
 * The gateway runs in its own process (as in production); autocannon runs in this one.
 * Called by bench/src/run.ts in its own child; the figures land under `server`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { memoryApprovals, run } from '@baton/core';
import autocannon from 'autocannon';
import { collect } from '../bus/stats.js';
import { TRIVIAL_INPUT, TRIVIAL_OUTPUT, trivialAgent } from './trivial.js';

const CHILD = fileURLToPath(new URL('./gateway-child.js', import.meta.url));

export interface ServerBenchOptions {
  connections?: number;
  /** Seconds per measured phase. */
  durationS?: number;
  warmupS?: number;
  rounds?: number;
  sseRequests?: number;
}

interface Throughput {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

export interface ServerFigures {
  gateway: Throughput & { non2xx: number; errors: number };
  direct: Throughput;
  directWithGatewayOptions: Throughput;
  health: Throughput;
  /** gateway ÷ direct */
  ratio: { rps: number; p99: number; rpsVsGatewayOptions: number };
  sse: {
    requests: number;
    firstEventMs: { p50: number; p99: number };
    firstRunEventMs: { p50: number; p99: number };
    resultMs: { p50: number; p99: number };
    syncResponseMs: { p50: number; p99: number };
  };
  rounds: { gateway: Throughput[]; direct: Throughput[]; directWithGatewayOptions: Throughput[] };
  method: Record<string, string | number>;
  measuredAt: string;
}

export async function measureServer(options: ServerBenchOptions = {}): Promise<ServerFigures> {
  const connections = options.connections ?? 10;
  const durationS = options.durationS ?? 8;
  const warmupS = options.warmupS ?? 3;
  const roundCount = options.rounds ?? 2;
  const sseRequests = options.sseRequests ?? 300;
  const agent = trivialAgent();
  const plain = async () => check(await run(agent, TRIVIAL_INPUT));
  // What the gateway gives this run: an id, the tenant's approvals, a signal to cancel it (an agent with
  // no tools cannot pause, so in one process it gets no journal).
  const approvals = memoryApprovals();
  let seq = 0;
  const withOptions = async () =>
    check(
      await run(agent, TRIVIAL_INPUT, {
        runId: `b-${++seq}`,
        approvals,
        signal: new AbortController().signal,
        tenantId: 'default',
      }),
    );

  const gateway = await startGatewayProcess();
  try {
    const body = JSON.stringify({ agent: 'trivial', input: TRIVIAL_INPUT });
    const post = { url: `${gateway.url}/v1/runs`, method: 'POST' as const, body, headers: JSON_HEADERS };
    const sample = (await (
      await fetch(post.url, { method: 'POST', body, headers: JSON_HEADERS })
    ).json()) as {
      status?: string;
      output?: unknown;
    };
    if (sample.status !== 'completed' || sample.output !== TRIVIAL_OUTPUT) {
      throw new Error(`the gateway's run did not complete: ${JSON.stringify(sample).slice(0, 300)}`);
    }
    // Warm both paths (JIT, sockets) before anything is timed.
    await closedLoop(connections, warmupS * 1000, plain);
    await closedLoop(connections, warmupS * 1000, withOptions);
    await load({ ...post, connections, duration: warmupS });

    const rounds = {
      gateway: [] as Figures[],
      direct: [] as Throughput[],
      directWithGatewayOptions: [] as Throughput[],
    };
    for (let round = 0; round < roundCount; round++) {
      collect();
      rounds.direct.push(await closedLoop(connections, durationS * 1000, plain));
      collect();
      rounds.directWithGatewayOptions.push(await closedLoop(connections, durationS * 1000, withOptions));
      collect();
      rounds.gateway.push(await load({ ...post, connections, duration: durationS }));
    }
    const health = await load({
      url: `${gateway.url}/health`,
      method: 'GET',
      connections,
      duration: durationS,
    });
    const sse = await measureSse(gateway.url, sseRequests);

    const merged = {
      gateway: mergeLoad(rounds.gateway),
      direct: merge(rounds.direct),
      directWithGatewayOptions: merge(rounds.directWithGatewayOptions),
    };
    return {
      ...merged,
      health,
      ratio: {
        rps: round3(merged.gateway.rps / merged.direct.rps),
        p99: round3(merged.gateway.p99Ms / merged.direct.p99Ms),
        rpsVsGatewayOptions: round3(merged.gateway.rps / merged.directWithGatewayOptions.rps),
      },
      sse,
      rounds,
      method: {
        loadGenerator: `autocannon ${autocannonVersion()} in the measuring process; the gateway in its own process`,
        connections,
        durationSecondsPerPhase: durationS,
        warmupSeconds: warmupS,
        rounds: roundCount,
        run: 'a trivial agent: one scripted model step, no tools; `run()` gets the same agent object',
        direct: `${connections} runs in flight in a closed loop, in the measuring process`,
        sse: 'sequential stream:true requests, one connection; fetch + a streaming reader',
      },
      measuredAt: new Date().toISOString(),
    };
  } finally {
    await gateway.stop();
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' };

type Figures = Throughput & { non2xx: number; errors: number };

function check(result: { status: string; output: unknown }): void {
  if (result.status !== 'completed' || result.output !== TRIVIAL_OUTPUT) {
    throw new Error(`the direct run did not complete: ${result.status}`);
  }
}

/** `lanes` callers each running `task` back to back for `ms`: requests/s and latency percentiles. */
async function closedLoop(lanes: number, ms: number, task: () => Promise<void>): Promise<Throughput> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        await task();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    rps: round1(latencies.length / elapsed),
    p50Ms: round3(percentile(latencies, 0.5)),
    p99Ms: round3(percentile(latencies, 0.99)),
    requests: latencies.length,
  };
}

async function load(options: autocannon.Options): Promise<Figures> {
  const result = await autocannon({ ...options, pipelining: 1 });
  return {
    rps: round1(result.requests.total / (result.duration || Number(options.duration))),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function merge(rounds: readonly Throughput[]): Throughput {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  return {
    rps: round1(rounds.reduce((sum, r) => sum + r.rps, 0) / rounds.length),
    // The worse round's tail: a p99 is not averaged.
    p50Ms: round3(median(rounds.map((r) => r.p50Ms))),
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
    requests,
  };
}

function mergeLoad(rounds: readonly Figures[]): Figures {
  return {
    ...merge(rounds),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

async function measureSse(url: string, count: number): Promise<ServerFigures['sse']> {
  const first: number[] = [];
  const firstRun: number[] = [];
  const result: number[] = [];
  const sync: number[] = [];
  const body = JSON.stringify({ agent: 'trivial', input: TRIVIAL_INPUT, stream: true });
  const syncBody = JSON.stringify({ agent: 'trivial', input: TRIVIAL_INPUT });
  for (let i = 0; i < count + 20; i++) {
    const timed = i >= 20;
    const t0 = performance.now();
    const response = await fetch(`${url}/v1/runs`, { method: 'POST', body, headers: JSON_HEADERS });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let sawFirst = false;
    let sawRun = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const now = performance.now() - t0;
      if (!sawFirst && text.includes('\n\n')) {
        sawFirst = true;
        if (timed) first.push(now);
      }
      if (!sawRun && text.includes('event: run.start')) {
        sawRun = true;
        if (timed) firstRun.push(now);
      }
    }
    if (!text.includes('event: result')) throw new Error(`no result event: ${text.slice(-300)}`);
    if (timed) result.push(performance.now() - t0);
    const s0 = performance.now();
    const reply = await fetch(`${url}/v1/runs`, { method: 'POST', body: syncBody, headers: JSON_HEADERS });
    await reply.arrayBuffer();
    if (timed) sync.push(performance.now() - s0);
  }
  const pair = (values: number[]) => ({
    p50: round3(percentile(values, 0.5)),
    p99: round3(percentile(values, 0.99)),
  });
  return {
    requests: count,
    firstEventMs: pair(first),
    firstRunEventMs: pair(firstRun),
    resultMs: pair(result),
    syncResponseMs: pair(sync),
  };
}

async function startGatewayProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the gateway did not start: ${stderr}`)), 60_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /READY (\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}): ${stderr}`));
    });
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

function autocannonVersion(): string {
  return (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
