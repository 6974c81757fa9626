import { type AgentInfo, listAgents } from '@baton/bus';
import { shortBundle } from '@baton/core';
import { renderTable } from '@baton/teams';
import type { Io } from '../io.js';
import { selfCommand } from '../io.js';
import { connectNats } from '../nats.js';
import { type NatsAuthFlags, requireNatsUrl } from '../nats-flags.js';

export interface AgentsFlags extends NatsAuthFlags {
  /** Default NATS_URL. */
  nats?: string;
  namespace?: string;
  json?: boolean;
  /** How long to collect answers, ms. */
  wait?: number;
}

/** One line per agent on the bus, all its instances together. */
export interface AgentSummary {
  name: string;
  contract: string;
  instances: number;
  inFlight: number;
  queued: number;
  concurrency: number;
  /** In-flight runs ÷ total concurrency (1 = saturated). */
  load: number;
  durable: boolean;
  killed: number;
  /** The bundle hashes its instances serve (more than one while a new version rolls out). */
  bundles: string[];
}

/** `baton agents`: the workers on the bus, from the registry (name, contract, instances, load). */
export async function agentsCommand(flags: AgentsFlags, io: Io): Promise<number> {
  const url = requireNatsUrl(flags.nats, 'agents');
  const bus = await connectNats(url, `baton-cli-${process.pid}`, flags);
  try {
    const found = await listAgents(bus, {
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      timeoutMs: flags.wait ?? 500,
    });
    const agents = summarize(found);
    if (flags.json) {
      io.out(JSON.stringify({ namespace: flags.namespace ?? 'default', agents, instances: found }, null, 2));
      return 0;
    }
    const where = `${url} (namespace ${flags.namespace ?? 'default'})`;
    if (agents.length === 0) {
      io.out(`No workers on ${where}.`);
      io.out(
        `Start one: ${selfCommand()} worker researcher --nats ${url}${flags.namespace ? ` --namespace ${flags.namespace}` : ''}`,
      );
      return 0;
    }
    io.out(`Workers on ${where}:`);
    io.out('');
    io.out(
      renderTable(
        [
          { header: 'agent' },
          { header: 'contract' },
          { header: 'instances', align: 'right' },
          { header: 'in flight', align: 'right' },
          { header: 'queued', align: 'right' },
          { header: 'load', align: 'right' },
          { header: 'mode' },
          { header: 'bundle' },
        ],
        agents.map((agent) => [
          agent.name,
          agent.contract,
          String(agent.instances),
          String(agent.inFlight),
          String(agent.queued),
          `${Math.round(agent.load * 100)}%`,
          `${agent.durable ? 'durable' : 'core'}${agent.killed > 0 ? `, ${agent.killed} killed` : ''}`,
          agent.bundles.map((hash) => shortBundle(hash)).join(', ') || '-',
        ]),
      ),
    );
    return 0;
  } finally {
    await bus.close().catch(() => {});
  }
}

export function summarize(instances: readonly AgentInfo[]): AgentSummary[] {
  const byName = new Map<string, AgentSummary>();
  for (const info of instances) {
    const summary = byName.get(info.name) ?? {
      name: info.name,
      contract: info.contract,
      instances: 0,
      inFlight: 0,
      queued: 0,
      concurrency: 0,
      load: 0,
      durable: false,
      killed: 0,
      bundles: [],
    };
    summary.instances++;
    summary.inFlight += info.inFlight;
    summary.queued += info.queued;
    summary.concurrency += info.concurrency;
    summary.durable ||= info.durable;
    if (info.killed) summary.killed++;
    if (info.bundle && !summary.bundles.includes(info.bundle)) summary.bundles.push(info.bundle);
    summary.load = summary.concurrency > 0 ? summary.inFlight / summary.concurrency : 0;
    byName.set(info.name, summary);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
