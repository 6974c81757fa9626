import { type A2aServable, type A2aServing, type ServeA2aOptions, serveA2a } from '@baton/a2a';
import type { NatsBus } from '@baton/bus';
import type { AgentLike } from '@baton/core';
import { formatDuration } from '@baton/teams';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { loadServed } from '../load-team.js';
import { connectNats, type NatsConnectFlags } from '../nats.js';
import { natsUrlOf } from '../nats-flags.js';

export interface A2aServeFlags extends NatsConnectFlags {
  /** Default 4000; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Required as a bearer token on JSON-RPC calls (or BATON_A2A_TOKEN); the card stays public. */
  token?: string;
  /** Each run is stopped after this long, ms. */
  timeout?: number;
  /** Tasks and their events on this NATS server (several `baton a2a serve` then share them). */
  nats?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
export const DEFAULT_A2A_PORT = 4000;

/**
 * `baton a2a serve <agent|team>`: the agent or team as an A2A server (agent card, message/send,
 * message/stream, tasks/get, tasks/cancel) until SIGINT/SIGTERM. With --nats the tasks live in the
 * namespace's KV bucket and their events on its subjects, so several servers answer for each other.
 */
export async function a2aServeCommand(reference: string, flags: A2aServeFlags, io: Io): Promise<number> {
  const { target, options } = await resolveTarget(reference, flags);
  const host = flags.host ?? '127.0.0.1';
  const token = flags.token ?? process.env.BATON_A2A_TOKEN;
  if (!LOOPBACK.has(host) && !token) {
    throw new CliError(
      `--host ${host} is reachable from other machines: set a bearer token`,
      EXIT.USAGE,
      'Add --token <secret> (or BATON_A2A_TOKEN); clients send `Authorization: Bearer <secret>`',
    );
  }
  const natsUrl = natsUrlOf(flags.nats);
  let bus: NatsBus | undefined;
  if (natsUrl) bus = await connectNats(natsUrl, `baton-a2a-${target.name}`, flags);
  let serving: A2aServing;
  try {
    serving = await serveA2a(logged(target, io), {
      ...options,
      port: flags.port ?? DEFAULT_A2A_PORT,
      host,
      ...(token ? { token } : {}),
      ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
      ...(bus ? { nats: bus, namespace: flags.namespace ?? 'default' } : {}),
    });
  } catch (error) {
    await bus?.close();
    throw error;
  }
  io.err(
    `A2A server for ${target.name} on ${serving.url}${token ? ' (bearer token required)' : ''}${bus ? ` — tasks on NATS, namespace ${flags.namespace ?? 'default'}` : ''}`,
  );
  io.err(`Agent card: ${serving.cardUrl} — Ctrl-C to stop`);
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      io.err(`A2A server for ${target.name} stopped (${signal})`);
      void serving
        .close()
        .then(() => bus?.close())
        .finally(() => resolve(EXIT.OK));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function resolveTarget(
  reference: string,
  flags: A2aServeFlags,
): Promise<{ target: A2aServable; options: Omit<ServeA2aOptions, 'port' | 'host'> }> {
  const served = await loadServed(reference, flags.timeout ? { timeoutMs: flags.timeout } : {}, [
    'a2a',
    'serve',
    reference,
  ]);
  if (served.kind === 'agent') return { target: served.agent, options: { contract: served.contract } };
  const { loaded } = served;
  return { target: loaded.team as A2aServable, options: { fromText: (topic) => loaded.input(topic) } };
}

/** The target, with a line on stderr when each run starts and ends. */
function logged(target: A2aServable, io: Io): A2aServable {
  const run = target.run.bind(target) as AgentLike['run'];
  const wrapped: AgentLike['run'] = async (input, options) => {
    const started = performance.now();
    io.err(`[${target.name}] task started`);
    const result = await run(input, options);
    io.err(`[${target.name}] task ${result.status} in ${formatDuration(performance.now() - started)}`);
    return result;
  };
  return { ...target, run: wrapped } as A2aServable;
}
