import type { AgentLike } from '@baton/core';
import { startDurableConsumer } from '../durable/worker.js';
import type { Bus } from '../transport/types.js';
import { Worker } from './worker.js';
import type { AgentWorker, ServeAgentOptions } from './worker-options.js';

/**
 * Serves `agent` on the bus under its contract and resolves once the worker receives invocations.
 * Stop it with `drain()` (finish the runs in flight) or `stop()` (abort them; partial results are replied).
 */
export async function serveAgent<I, O>(
  bus: Bus,
  agent: AgentLike<I, O>,
  options: ServeAgentOptions<I, O>,
): Promise<AgentWorker> {
  const worker = new Worker(bus, agent as AgentLike, options.contract, options as ServeAgentOptions);
  await worker.start(options.heartbeatMs ?? 5_000);
  if (worker.durable) {
    try {
      await startDurableConsumer(worker, options.durable === true ? {} : options.durable || {});
    } catch (error) {
      await worker.stop();
      throw error;
    }
  }
  return worker;
}
