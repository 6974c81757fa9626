/**
 * A worker process: serves one agent of the catalogue on NATS until SIGINT or SIGTERM, then drains
 * (the runs in flight finish and reply) and exits 0. This is all a worker needs: a bus, an agent, and
 * the handoff contract it accepts. Run as many copies as you like; they share the load.
 *
 *   node examples/dist/distributed/worker.js researcher nats://127.0.0.1:4222
 *
 * Environment: NATS_URL (when no URL is given), BATON_NAMESPACE (default "default"), and the model
 * settings (OPENAI_API_KEY, ...) — the worker, not the caller, decides which model its agent uses.
 */
import { NatsBus, serveAgent } from '@baton/bus';
import { BatonError } from '@baton/core';
import { servableAgent } from '@baton/teams';
import { startTracing } from '@baton/telemetry';

const [name = '', url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'] = process.argv.slice(2);
const namespace = process.env.BATON_NAMESPACE || undefined;

try {
  const { contract, create } = servableAgent(name);
  // One trace crosses processes: this worker's spans join the caller's trace (W3C context in headers).
  const tracing = await startTracing({ serviceName: `baton-worker-${name}` });
  const bus = await NatsBus.connect({ servers: url, name: `baton-worker-${name}-${process.pid}` });
  const worker = await serveAgent(bus, create(), {
    contract,
    ...(namespace ? { namespace } : {}),
    heartbeatMs: 1_000,
  });
  process.stdout.write(`ready ${name} ${worker.instance}\n`);

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[worker ${name}] ${why}: draining\n`);
    await worker.drain();
    await bus.close();
    await tracing.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  // Started by a parent that holds our stdin: when the parent goes away, so do we.
  if (process.env.BATON_STOP_WITH_PARENT === '1') {
    process.stdin.on('close', () => void stop('parent gone'));
    process.stdin.resume();
  }
} catch (error) {
  const failure = BatonError.wrap(error);
  process.stderr.write(`worker ${name || '(no agent given)'}: ${failure.message}\n`);
  if (failure.hint) process.stderr.write(`hint: ${failure.hint}\n`);
  process.exit(2);
}
