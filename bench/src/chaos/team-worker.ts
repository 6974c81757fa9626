/**
 * A worker process of the team scenarios: serves the named members on NATS and reports on stdout when a
 * hanging member starts and when its cancel arrives (`START <name>`, `ABORT <name> <code> <epoch ms>`).
 * Prints READY once serving. Usage: node team-worker.js <nats url> <kind:name>...
 */
import { NatsBus, serveAgent } from '@baton/bus';
import type { Agent } from '@baton/core';
import { asker, callee, hanging, NAMESPACE, spender, taskContract } from './team-members.js';

const [url = '', ...specs] = process.argv.slice(2);
const bus = await NatsBus.connect({ servers: url, name: `chaos-team-worker-${process.pid}` });
const report = {
  onStart: (name: string) => process.stdout.write(`START ${name}\n`),
  onAbort: (name: string, code: string, at: number) => process.stdout.write(`ABORT ${name} ${code} ${at}\n`),
};
for (const spec of specs) {
  const [kind, name = kind, extra = ''] = spec.split(':') as [string, string?, string?];
  let agent: Agent<unknown, unknown>;
  if (kind === 'spender') agent = spender(name);
  else if (kind === 'callee') agent = callee(name);
  else if (kind === 'asker') {
    agent = asker(name, bus, extra, (answer) => {
      const tokens = answer.usage.inputTokens + answer.usage.outputTokens;
      process.stdout.write(`ANSWER ${answer.agent} ${answer.status} ${tokens}\n`);
    });
  } else if (kind === 'hanging') agent = hanging(name, report);
  else throw new Error(`unknown member kind ${kind}`);
  await serveAgent(bus, agent, {
    contract: taskContract,
    namespace: NAMESPACE,
    heartbeatMs: 0,
    concurrency: 64,
  });
}
await bus.flush();
process.stdout.write('READY\n');
process.on('SIGTERM', () => {
  void bus.close().then(() => process.exit(0));
});
