import { join } from 'node:path';
import { natsMemoryStore } from '@baton/bus';
import { BatonError, fileMemoryStore, type MemoryStore } from '@baton/core';
import { CliError, EXIT } from '../errors.js';
import { connectNats, type NatsConnectFlags, withoutPassword } from '../nats.js';
import type { NatsAuthFlags } from '../nats-flags.js';
import { DEFAULT_STATE_DIR, envNatsUrl } from '../stores.js';

/** Where `baton memory` looks without a flag (and without NATS_URL): the file store of `.baton`. */
export const DEFAULT_MEMORY_DIR = join(DEFAULT_STATE_DIR, 'memory');

/** The backend flags every `baton memory` command takes. */
export interface MemoryBackendFlags extends NatsAuthFlags {
  /** A directory of the file store (`fileMemoryStore`). */
  dir?: string;
  /** A NATS server: the memory bucket of `namespace`. */
  nats?: string;
  namespace?: string;
  /** A PostgreSQL connection string. */
  postgres?: string;
  schema?: string;
}

export interface MemoryHandle {
  store: MemoryStore;
  /** For people: the directory, `NATS … (namespace …)` or `PostgreSQL … (schema …)`. */
  describe: string;
  /** The flags that reach this store again, for the hints a command prints (empty: the default finds it). */
  flags: string[];
  /** The tenant when `--tenant` is not given: the bus namespace on NATS, `default` otherwise. */
  defaultTenant: string;
  close(): Promise<void>;
}

/**
 * Opens the store the flags name: `--postgres`, `--nats` (or NATS_URL when no other backend is named),
 * or the files of `--dir` (default `.baton/memory`). Naming two is a usage error, never a guess.
 */
export async function openMemoryStore(flags: MemoryBackendFlags): Promise<MemoryHandle> {
  const named = (['dir', 'nats', 'postgres'] as const).filter((flag) => flags[flag] !== undefined);
  if (named.length > 1) {
    throw new CliError(`Give one of ${named.map((flag) => `--${flag}`).join(', ')}, not several`, EXIT.USAGE);
  }
  const url = named.length === 0 ? envNatsUrl() : flags.nats;
  if (flags.namespace !== undefined && url === undefined) {
    throw new CliError('--namespace only applies with --nats (or NATS_URL)', EXIT.USAGE);
  }
  if (flags.schema !== undefined && flags.postgres === undefined) {
    throw new CliError('--schema only applies with --postgres', EXIT.USAGE);
  }
  if (flags.postgres !== undefined) return openPostgres(flags.postgres, flags.schema);
  if (url !== undefined) return openNats(url, flags.namespace, flags);
  const dir = flags.dir ?? DEFAULT_MEMORY_DIR;
  const store = fileMemoryStore({ dir });
  // NATS_URL would send the next command to NATS: name the directory then.
  const explicit = dir !== DEFAULT_MEMORY_DIR || envNatsUrl() !== undefined;
  return {
    store,
    describe: store.dir,
    flags: explicit ? ['--dir', dir] : [],
    defaultTenant: 'default',
    close: () => store.close(),
  };
}

async function openNats(
  url: string,
  namespace: string | undefined,
  login: NatsConnectFlags,
): Promise<MemoryHandle> {
  const bus = await connectNats(url, `baton-memory-${process.pid}`, login);
  try {
    const store = await natsMemoryStore(bus, namespace === undefined ? {} : { namespace });
    return {
      store,
      describe: `NATS ${withoutPassword(url)} (namespace ${namespace ?? 'default'})`,
      flags: ['--nats', withoutPassword(url), ...(namespace === undefined ? [] : ['--namespace', namespace])],
      defaultTenant: namespace ?? 'default',
      close: async () => {
        await store.close().catch(() => undefined);
        await bus.close();
      },
    };
  } catch (error) {
    await bus.close().catch(() => undefined);
    throw error;
  }
}

async function openPostgres(connection: string, schema: string | undefined): Promise<MemoryHandle> {
  // pg is loaded only by the commands that use it.
  const { postgresMemoryStore } = await import('@baton/postgres');
  const store = await postgresMemoryStore({
    connectionString: connection,
    maxConnections: 2,
    ...(schema === undefined ? {} : { schema }),
  });
  return {
    store,
    describe: `PostgreSQL ${redactPassword(connection)} (schema ${schema ?? 'baton_memory'})`,
    flags: ['--postgres', redactPassword(connection), ...(schema === undefined ? [] : ['--schema', schema])],
    defaultTenant: 'default',
    close: () => store.close(),
  };
}

/** A connection string as it may be printed: the password replaced by `***`. */
export function redactPassword(connection: string): string {
  try {
    const url = new URL(connection);
    if (url.password === '') return connection;
    url.password = '***';
    return url.toString();
  } catch {
    // key=value form: `password=…` up to the next space.
    return connection.replace(/(password\s*=\s*)(\S+)/gi, '$1***');
  }
}

/**
 * Runs `work` on the store and closes it. A backend that cannot be reached is exit 3 with a hint; a
 * store whose data is unreadable keeps its own message and hint (exit 1).
 */
export async function withMemoryStore(
  flags: MemoryBackendFlags,
  work: (handle: MemoryHandle) => Promise<number>,
): Promise<number> {
  let handle: MemoryHandle;
  try {
    handle = await openMemoryStore(flags);
  } catch (error) {
    throw unreachable(error);
  }
  try {
    return await work(handle);
  } catch (error) {
    throw unreachable(error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function unreachable(error: unknown): unknown {
  if (!BatonError.is(error, 'MEMORY_UNAVAILABLE')) return error;
  return new CliError(
    error.message,
    EXIT.UNAVAILABLE,
    error.hint ?? 'Check that the store is running and reachable, and the flags that name it',
  );
}
