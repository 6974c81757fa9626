import { killFlags, persistentKill, unkill } from '@baton/bus';
import { BatonError } from '@baton/core';
import { CliError, EXIT, toCliError } from '../errors.js';
import type { Io } from '../io.js';
import { connectNats } from '../nats.js';
import { type NatsAuthFlags, requireNatsUrl } from '../nats-flags.js';

export interface KillFlags extends NatsAuthFlags {
  nats?: string;
  namespace?: string;
  agent?: string;
  reason?: string;
  status?: boolean;
  json?: boolean;
}

const OPERATOR_HINT =
  'The kill switch is set and cleared by operators only: log in as an operator of the namespace (baton nats-config)';

function cliError(error: unknown): CliError {
  if (BatonError.is(error, 'BUS_PERMISSION_DENIED'))
    return new CliError(error.message, EXIT.AUTH_FAILED, OPERATOR_HINT);
  if (BatonError.is(error, 'CONFIG_INVALID')) return new CliError(error.message, EXIT.USAGE, error.hint);
  return toCliError(error);
}

/**
 * `baton kill [--agent a] [--reason]`: sets the persistent flag (workers started later refuse work too)
 * and publishes the fast-path kill to the workers running now. `--status` lists the flags instead.
 */
export async function killCommand(flags: KillFlags, io: Io): Promise<number> {
  const url = requireNatsUrl(flags.nats, 'kill');
  const bus = await connectNats(url, `baton-cli-${process.pid}`, flags);
  const namespace = flags.namespace ?? 'default';
  try {
    if (flags.status) {
      const found = await killFlags(bus, { namespace });
      if (flags.json) {
        io.out(JSON.stringify({ namespace, all: found.all ?? null, agents: found.agents }, null, 2));
        return EXIT.OK;
      }
      const agents = Object.entries(found.agents);
      if (!found.all && agents.length === 0) io.out(`No kill flag is set in namespace ${namespace}.`);
      if (found.all) io.out(`namespace ${namespace}: killed ${describe(found.all)}`);
      for (const [agent, flag] of agents) io.out(`agent ${agent}: killed ${describe(flag)}`);
      return EXIT.OK;
    }
    const flag = await persistentKill(bus, {
      namespace,
      reason: flags.reason ?? 'stopped by an operator',
      by: flags.natsUser ?? process.env.NATS_USER ?? process.env.USER ?? 'cli',
      ...(flags.agent === undefined ? {} : { agent: flags.agent }),
    });
    if (flags.json) io.out(JSON.stringify({ namespace, ...flag }, null, 2));
    else {
      io.out(
        `Killed ${flags.agent === undefined ? `every agent of namespace ${namespace}` : `${flags.agent} in namespace ${namespace}`}: ${flag.reason}`,
      );
      io.out('Running workers stopped taking work and aborted their runs; new workers will refuse work too.');
      io.out(
        `Undo: baton unkill${flags.agent === undefined ? '' : ` --agent ${flags.agent}`} --namespace ${namespace}`,
      );
    }
    return EXIT.OK;
  } catch (error) {
    throw cliError(error);
  } finally {
    await bus.close();
  }
}

/** `baton unkill [--agent a]`: clears the flag; the workers watching it take work again. */
export async function unkillCommand(flags: KillFlags, io: Io): Promise<number> {
  const url = requireNatsUrl(flags.nats, 'unkill');
  const bus = await connectNats(url, `baton-cli-${process.pid}`, flags);
  const namespace = flags.namespace ?? 'default';
  try {
    const cleared = await unkill(bus, {
      namespace,
      ...(flags.agent === undefined ? {} : { agent: flags.agent }),
    });
    const what =
      flags.agent === undefined ? `namespace ${namespace}` : `${flags.agent} in namespace ${namespace}`;
    io.out(
      cleared
        ? `Cleared the kill flag of ${what}: its workers take work again.`
        : `No kill flag was set for ${what}.`,
    );
    return EXIT.OK;
  } catch (error) {
    throw cliError(error);
  } finally {
    await bus.close();
  }
}

function describe(flag: { reason: string; at: number; by?: string | undefined }): string {
  return `since ${new Date(flag.at).toISOString()}${flag.by ? ` by ${flag.by}` : ''}: ${flag.reason}`;
}
