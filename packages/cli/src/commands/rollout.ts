import {
  checkBundleId,
  type NatsBus,
  type PointerRead,
  type RolloutPointer,
  rolloutStore,
  rolloutWatcher,
} from '@baton/bus';
import { BatonError } from '@baton/core';
import { renderTable } from '@baton/teams';
import { CliError, EXIT, toCliError } from '../errors.js';
import { type Io, selfCommand } from '../io.js';
import { connectNats } from '../nats.js';
import { type NatsAuthFlags, requireNatsUrl } from '../nats-flags.js';

interface BusFlags extends NatsAuthFlags {
  nats?: string;
  namespace?: string;
}

export interface RolloutStatusFlags extends BusFlags {
  json?: boolean;
}

export interface RolloutPromoteFlags extends BusFlags {
  bundle: string;
  canary?: boolean;
  share?: number;
  reason?: string;
  json?: boolean;
}

export interface RolloutRollbackFlags extends BusFlags {
  reason?: string;
  json?: boolean;
}

export interface RolloutWatchFlags extends BusFlags {
  agent?: string[];
  /** ms */
  window?: number;
  minSamples?: number;
  /** percentage points */
  maxDrop?: number;
  /** percent */
  minSuccess?: number;
}

/** Who changed the pointer, for its history: the NATS user if any, else the OS user. */
function actor(flags: BusFlags): string {
  return flags.natsUser ?? process.env.NATS_USER ?? process.env.USER ?? 'cli';
}

async function withBus<T>(flags: BusFlags, words: string, work: (bus: NatsBus) => Promise<T>): Promise<T> {
  const url = requireNatsUrl(flags.nats, words);
  const bus = await connectNats(url, `baton-cli-${process.pid}`, flags);
  try {
    return await work(bus);
  } catch (error) {
    throw cliError(error);
  } finally {
    await bus.close();
  }
}

function cliError(error: unknown): CliError {
  if (BatonError.is(error, 'ROLLOUT_CONFLICT') || BatonError.is(error, 'NOT_FOUND')) {
    return new CliError(error.message, EXIT.USAGE, error.hint);
  }
  if (BatonError.is(error, 'BUS_PERMISSION_DENIED')) {
    return new CliError(
      error.message,
      EXIT.AUTH_FAILED,
      'Rollout pointers are changed by operators only: log in as an operator of the namespace (baton nats-config)',
    );
  }
  return toCliError(error);
}

/** `baton rollout status <agent>`. */
export async function rolloutStatusCommand(
  agent: string,
  flags: RolloutStatusFlags,
  io: Io,
): Promise<number> {
  return withBus(flags, `rollout status ${agent}`, async (bus) => {
    const read = await rolloutStore(bus, namespaceOf(flags)).get(agent);
    if (flags.json) {
      io.out(JSON.stringify(read ? { ...read.pointer, revision: read.revision } : null, null, 2));
      return EXIT.OK;
    }
    if (!read) {
      io.out(`${agent} has no rollout pointer: callers reach any of its workers.`);
      io.out(`Set one: ${selfCommand()} rollout promote ${agent} --bundle <id>`);
      return EXIT.OK;
    }
    printPointer(read, io);
    return EXIT.OK;
  });
}

/** `baton rollout promote <agent> --bundle X [--canary --share 0.1]`. */
export async function rolloutPromoteCommand(
  agent: string,
  flags: RolloutPromoteFlags,
  io: Io,
): Promise<number> {
  try {
    checkBundleId('--bundle', flags.bundle, 'bundle');
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.USAGE);
  }
  if (flags.share !== undefined && !flags.canary) {
    throw new CliError('--share applies to a canary: add --canary', EXIT.USAGE);
  }
  return withBus(flags, `rollout promote ${agent}`, async (bus) => {
    const store = rolloutStore(bus, namespaceOf(flags));
    const options = { by: actor(flags), ...(flags.reason === undefined ? {} : { reason: flags.reason }) };
    const read = flags.canary
      ? await store.canary(agent, flags.bundle, flags.share ?? 0.1, options)
      : await store.promote(agent, flags.bundle, options);
    if (flags.json) io.out(JSON.stringify({ ...read.pointer, revision: read.revision }, null, 2));
    else {
      io.out(
        flags.canary
          ? `${agent}: ${flags.bundle} is the canary for ${percent(flags.share ?? 0.1)} of runs.`
          : `${agent}: ${flags.bundle} is production.`,
      );
      io.out('');
      printPointer(read, io);
    }
    return EXIT.OK;
  });
}

/** `baton rollout rollback <agent> [--reason]`. */
export async function rolloutRollbackCommand(
  agent: string,
  flags: RolloutRollbackFlags,
  io: Io,
): Promise<number> {
  return withBus(flags, `rollout rollback ${agent}`, async (bus) => {
    const read = await rolloutStore(bus, namespaceOf(flags)).rollback(agent, {
      by: actor(flags),
      reason: flags.reason ?? 'rolled back by an operator',
    });
    if (flags.json) io.out(JSON.stringify({ ...read.pointer, revision: read.revision }, null, 2));
    else {
      const last = read.pointer.history.at(-1);
      io.out(`${agent}: rolled back ${last?.bundle ?? ''}; production is ${read.pointer.production}.`);
      io.out('');
      printPointer(read, io);
    }
    return EXIT.OK;
  });
}

/** `baton rollout watch`: the automatic rollback, until SIGINT/SIGTERM. */
export async function rolloutWatchCommand(flags: RolloutWatchFlags, io: Io): Promise<number> {
  const url = requireNatsUrl(flags.nats, 'rollout watch');
  const bus = await connectNats(url, `baton-rollout-watch-${process.pid}`, flags);
  try {
    const watcher = await rolloutWatcher(bus, {
      ...namespaceOf(flags),
      ...(flags.agent ? { agents: flags.agent } : {}),
      ...(flags.window === undefined ? {} : { windowMs: flags.window }),
      ...(flags.minSamples === undefined ? {} : { minSamples: flags.minSamples }),
      ...(flags.maxDrop === undefined ? {} : { maxDrop: flags.maxDrop / 100 }),
      ...(flags.minSuccess === undefined ? {} : { minSuccessRate: flags.minSuccess / 100 }),
      by: `rollout-watch@${actor(flags)}`,
      onRollback: (event) =>
        io.out(`${new Date().toISOString()} rolled back ${event.agent} ${event.bundle}: ${event.reason}`),
      onError: (error) => io.err(`error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`),
    }).catch((error: unknown) => {
      throw cliError(error);
    });
    io.err(`Watching the canaries of namespace ${flags.namespace ?? 'default'} on ${url} (Ctrl-C to stop).`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await watcher.stop();
    return EXIT.OK;
  } finally {
    await bus.close();
  }
}

function namespaceOf(flags: BusFlags): { namespace?: string } {
  return flags.namespace === undefined ? {} : { namespace: flags.namespace };
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

function printPointer(read: PointerRead, io: Io): void {
  const pointer: RolloutPointer = read.pointer;
  io.out(`agent       ${pointer.agent}`);
  io.out(`production  ${pointer.production}`);
  io.out(
    `canary      ${pointer.canary ? `${pointer.canary.bundle} (${percent(pointer.canary.share)} of runs since ${new Date(pointer.canary.since).toISOString()})` : '-'}`,
  );
  io.out(`revision    ${read.revision}`);
  if (pointer.history.length === 0) return;
  io.out('');
  io.out(
    renderTable(
      [
        { header: 'when' },
        { header: 'action' },
        { header: 'bundle' },
        { header: 'by' },
        { header: 'reason' },
      ],
      pointer.history
        .slice(-20)
        .reverse()
        .map((entry) => [
          new Date(entry.at).toISOString(),
          `${entry.action}${entry.automatic ? ' (auto)' : ''}${entry.share === undefined ? '' : ` ${percent(entry.share)}`}`,
          entry.bundle,
          entry.by ?? '-',
          entry.reason ?? '-',
        ]),
    ),
  );
}
