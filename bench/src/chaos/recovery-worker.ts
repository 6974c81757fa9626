/**
 * A worker process for the recovery scenarios (r1, r2): serves the echo agent (it sleeps `delayMs`, then
 * echoes) on NATS, core or durable, and prints `READY <instance>` once it takes invocations. Configured by
 * one JSON argument (RecoveryWorkerConfig); SIGTERM drains and exits, SIGKILL is what the scenarios use.
 *
 * With `logFile`, it appends one line per event, synchronously so a SIGKILL right after loses nothing:
 * `exec <runId>` when a run finished here, `result <correlationId> <replyId>` when this process sent a
 * result to a caller. A second distinct reply id for one invocation is a second result: an invocation
 * completed twice. (A replayed result keeps its reply id; a run that finished but whose worker died
 * before recording it was never completed, and its rerun is not a second completion.)
 */
import { appendFileSync } from 'node:fs';
import { type BusPayload, NatsBus, type PublishOptions, serveAgent } from '@baton/bus';
import { echoAgent, echoContract } from '@baton/bus/testing';
import type { AgentLike } from '@baton/core';

export interface RecoveryWorkerConfig {
  url: string;
  namespace: string;
  instance: string;
  durable: boolean;
  concurrency: number;
  logFile?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as RecoveryWorkerConfig;
const log = (line: string) => {
  if (config.logFile !== undefined) appendFileSync(config.logFile, `${line}\n`);
};

const bus = await NatsBus.connect({ servers: config.url, name: config.instance });
if (config.logFile !== undefined) {
  const publish = bus.publish.bind(bus);
  bus.publish = (subject: string, data: BusPayload, options?: PublishOptions) => {
    publish(subject, data, options);
    if (subject.startsWith('_INBOX.')) noteResult(data);
  };
}

function noteResult(data: BusPayload): void {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  if (!text.includes('"kind":"result"')) return;
  try {
    const reply = JSON.parse(text) as { id?: unknown; kind?: unknown; correlationId?: unknown };
    if (reply.kind === 'result') log(`result ${String(reply.correlationId)} ${String(reply.id)}`);
  } catch {
    // Not an envelope: not a result.
  }
}

const echo = echoAgent({ instance: config.instance });
const agent: AgentLike<{ text: string; delayMs?: number }, { text: string; by?: string }> = {
  name: echo.name,
  description: echo.description,
  async run(input, options) {
    const result = await echo.run(input, options);
    if (result.status === 'completed') log(`exec ${result.runId}`);
    return result;
  },
};

const worker = await serveAgent(bus, agent, {
  contract: echoContract,
  namespace: config.namespace,
  instanceId: config.instance,
  concurrency: config.concurrency,
  heartbeatMs: 1_000,
  ...(config.durable ? { durable: true } : {}),
});
process.stdout.write(`READY ${config.instance}\n`);

process.on('SIGTERM', () => {
  void worker
    .drain()
    .then(() => bus.close())
    .finally(() => process.exit(0));
});
