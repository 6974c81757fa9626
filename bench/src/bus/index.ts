/**
 * Bus benchmark: a 1 KiB handoff round trip through remoteAgent/serveAgent (envelope, validation on both
 * ends, trace context, deadline, RunResult), in process and between two processes over NATS, each next
 * to its floor measured in the same run. Called by bench/src/run.ts; the figures land under `bus.*`.
 */
import { type InProcessFigures, measureInProcess, type RoundPlan } from './in-process.js';
import { measureNats, type NatsFigures } from './nats.js';

export interface BusBenchFigures {
  inProcess: InProcessFigures;
  nats: NatsFigures;
  method: {
    payloadBytes: number;
    statistic: string;
    inProcess: RoundPlan & { floor: string };
    nats: RoundPlan & { floor: string; traced: string };
    node: string;
  };
}

export interface BusBenchOptions {
  inProcess?: Partial<RoundPlan>;
  nats?: Partial<RoundPlan>;
}

export async function measureBus(options: BusBenchOptions = {}): Promise<BusBenchFigures> {
  const inProcessPlan: RoundPlan = { rounds: 12, warmupRounds: 2, perRound: 4_000, ...options.inProcess };
  const natsPlan: RoundPlan = { rounds: 10, warmupRounds: 2, perRound: 400, ...options.nats };
  const inProcess = await measureInProcess(inProcessPlan);
  const nats = await measureNats(natsPlan);
  return {
    inProcess,
    nats,
    method: {
      payloadBytes: 1024,
      statistic: 'p50/p99 of sequential round trips in µs, after warm-up rounds; ratio = p50 ÷ floor p50',
      inProcess: {
        ...inProcessPlan,
        floor: 'eventemitter3 request/reply copying the payload through JSON each way',
      },
      nats: {
        ...natsPlan,
        floor:
          'raw nats.js request/reply (noAsyncTraces) of the same JSON between two connections in two processes',
        traced:
          'OpenTelemetry BasicTracerProvider + BatchSpanProcessor (spans dropped) tracing caller and worker',
      },
      node: process.version,
    },
  };
}
