/**
 * The worker process of r4: serves the echo agent on NATS and nothing else, so every hostile message the
 * fuzzer sends lands on a subscription serveAgent made. Prints `READY <instance>` once it takes
 * invocations, and `HANDLER_ERROR <subject>` for any throw that reached the bus's last-resort listener
 * (the worker's own guard should leave none). SIGTERM stops it.
 * Usage: node r4-worker.js <nats url> <namespace>
 */
import { NatsBus, serveAgent } from '@baton/bus';
import { echoAgent, echoContract } from '@baton/bus/testing';

const [url = '', namespace = 'chaos-r4'] = process.argv.slice(2);
const instance = `r4-worker-${process.pid}`;
const bus = await NatsBus.connect({
  servers: url,
  name: instance,
  onHandlerError: (error, subject) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(`HANDLER_ERROR ${subject} ${JSON.stringify(message.slice(0, 200))}\n`);
  },
});
const worker = await serveAgent(bus, echoAgent({ instance }), {
  contract: echoContract,
  namespace,
  instanceId: instance,
  heartbeatMs: 1_000,
});
process.stdout.write(`READY ${instance}\n`);

process.on('SIGTERM', () => {
  void worker
    .stop()
    .then(() => bus.close())
    .finally(() => process.exit(0));
});
