import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NatsBus, remoteAgent } from '@baton/bus';
import { startNatsServer } from '@baton/bus/testing';
import { connect } from '@nats-io/transport-node';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { benchContract, benchPayload } from './echo.js';
import { noopExporter } from './exporter.js';

import { expectCompleted, type RoundPlan, sampleRounds, versusFloor } from './stats.js';

export interface NatsFigures {
  p50Us: number;
  p99Us: number;
  floorP50Us: number;
  floorP99Us: number;
  ratio: number;
  tracedP50Us: number;
  tracedP99Us: number;
  tracedRatio: number;
  samples: number;
  spansExported: number;
}

const RAW_SUBJECT = 'bench.raw.echo';

/** Starts `worker.ts` (or its compiled `.js`) and resolves once it prints READY. */
function startWorker(config: object): Promise<ChildProcess> {
  const script = fileURLToPath(
    new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url),
  );
  const args = script.endsWith('.ts') ? ['--conditions=@baton/source', '--import', 'tsx', script] : [script];
  const child = spawn(process.execPath, [...args, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('READY')) resolve(child);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited (${code}): ${err.slice(-2_000)}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
  });
}

/**
 * The same 1 KiB handoff between two processes over a real nats-server: remoteAgent → NatsBus →
 * serveAgent in a worker process and back, against the floor: raw nats.js request/reply of the same JSON
 * between two connections (the caller's and the worker process's). The traced variant runs with an
 * OpenTelemetry SDK tracer (BasicTracerProvider + BatchSpanProcessor, exporter that drops spans) on both
 * sides. One worker process answers all three, interleaved call by call.
 */
export async function measureNats(plan: RoundPlan): Promise<NatsFigures> {
  const payload = benchPayload();
  const json = JSON.stringify(payload);
  const server = await startNatsServer();
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  try {
    children.push(
      await startWorker({
        url: server.url,
        rawSubject: RAW_SUBJECT,
        namespace: 'bench',
        tracedNamespace: 'bench_traced',
      }),
    );

    const raw = await connect({ servers: server.url, name: 'bench-raw-caller', noAsyncTraces: true });
    closers.push(() => raw.close());
    const floor = async () => {
      const reply = await raw.request(RAW_SUBJECT, json, { timeout: 5_000 });
      JSON.parse(reply.string());
    };

    const bus = await NatsBus.connect({ servers: server.url, name: 'bench-caller' });
    closers.push(() => bus.close());
    const remote = remoteAgent(bus, {
      name: 'echo',
      contract: benchContract,
      namespace: 'bench',
      timeoutMs: 5_000,
    });
    const baton = () => remote.run(payload);

    const exporter = noopExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    closers.push(() => provider.shutdown());
    const tracedRemote = remoteAgent(bus, {
      name: 'echo',
      contract: benchContract,
      namespace: 'bench_traced',
      timeoutMs: 5_000,
      tracer: provider.getTracer('bench'),
    });
    const traced = () => tracedRemote.run(payload);

    const {
      floor: floorSamples,
      baton: batonSamples,
      traced: tracedSamples,
    } = await sampleRounds(plan, {
      floor: { run: floor },
      baton: { run: baton, check: expectCompleted('bus bench') },
      traced: { run: traced, check: expectCompleted('traced bench') },
    });
    await provider.forceFlush();

    const tracedFigures = versusFloor(tracedSamples, floorSamples);
    return {
      ...versusFloor(batonSamples, floorSamples),
      tracedP50Us: tracedFigures.p50Us,
      tracedP99Us: tracedFigures.p99Us,
      tracedRatio: tracedFigures.ratio,
      spansExported: exporter.exported,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await Promise.all(children.map(stop));
    await server.stop();
  }
}
