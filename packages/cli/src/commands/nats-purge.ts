import { jetstreamNames, type NatsBus } from '@baton/bus';
import { CliError, EXIT } from '../errors.js';
import { type Io, selfCommand } from '../io.js';
import { connectNats, withoutPassword } from '../nats.js';
import { type NatsAuthFlags, requireNatsUrl } from '../nats-flags.js';
import { shellCommand } from '../stores.js';
import { plural } from './trace-ls.js';

export interface NatsPurgeFlags extends NatsAuthFlags {
  nats?: string;
  namespace: string;
  yes?: boolean;
  json?: boolean;
}

/** A JetStream stream of the namespace, and what it holds. */
export interface NamespaceStream {
  /** The stream's name (`KV_<bucket>` for a KV bucket). */
  stream: string;
  kind: 'stream' | 'kv' | 'object store';
  /** The bucket's name for a KV bucket or object store. */
  bucket?: string;
  messages: number;
  bytes: number;
}

/**
 * Suffixes of the namespace's stream and bucket names (`BATON_<ns>_<suffix>`): those `@baton/bus` names,
 * and the gateway's and the A2A server's. A stream whose suffix is not one of them is not taken for the
 * namespace's: with namespaces `a` and `a_b`, `BATON_a_b_JOURNAL` belongs to `a_b`, not to `a`.
 */
function knownSuffixes(): Set<string> {
  const probe = 'NS';
  const suffixes = new Set(['RUNS', 'A2A_TASKS']);
  for (const name of Object.values(jetstreamNames)) {
    const value = (name as (ns: string) => string)(probe);
    if (value.startsWith(`BATON_${probe}_`)) suffixes.add(value.slice(`BATON_${probe}_`.length));
  }
  return suffixes;
}

/**
 * `baton nats purge --namespace ns`: lists the JetStream streams and KV buckets of a namespace — the
 * invocation queue and dead letters, journals, audit, approvals, memory, cache, results, the gateway's
 * jobs — and, with `--yes`, deletes them. Without `--yes` nothing is deleted (exit 2 when there is
 * something to delete, so a script cannot mistake the listing for the purge).
 */
export async function natsPurgeCommand(flags: NatsPurgeFlags, io: Io): Promise<number> {
  const url = requireNatsUrl(flags.nats, `nats purge --namespace ${flags.namespace}`);
  const bus = await connectNats(url, `baton-purge-${process.pid}`, flags);
  try {
    const found = await namespaceStreams(bus, flags.namespace);
    const where = `${withoutPassword(url)} (namespace ${flags.namespace})`;
    if (found.length === 0) {
      if (flags.json) io.out(JSON.stringify({ namespace: flags.namespace, deleted: [], found: [] }, null, 2));
      else io.out(`Nothing to delete on ${where}: no streams or buckets of that namespace.`);
      return EXIT.OK;
    }
    if (!flags.yes) {
      if (flags.json) io.out(JSON.stringify({ namespace: flags.namespace, deleted: [], found }, null, 2));
      else {
        io.out(`${plural(found.length, 'stream')} of ${where} would be deleted, with everything in them:`);
        for (const line of describe(found)) io.out(`  ${line}`);
      }
      const again = shellCommand([
        'nats',
        'purge',
        '--namespace',
        flags.namespace,
        ...(flags.nats ? ['--nats', withoutPassword(flags.nats)] : []),
        '--yes',
      ]);
      throw new CliError(
        'Nothing deleted: add --yes to delete them',
        EXIT.USAGE,
        `${selfCommand()} ${again}`,
      );
    }
    const deleted: string[] = [];
    for (const stream of found) {
      await deleteStream(bus, stream.stream);
      deleted.push(stream.stream);
      if (!flags.json) io.err(`deleted ${label(stream)}`);
    }
    if (flags.json) io.out(JSON.stringify({ namespace: flags.namespace, deleted, found }, null, 2));
    else io.out(`Deleted ${plural(deleted.length, 'stream')} of ${where}.`);
    return EXIT.OK;
  } finally {
    await bus.close().catch(() => undefined);
  }
}

/** The streams of `namespace` on the server, with their sizes. */
export async function namespaceStreams(bus: NatsBus, namespace: string): Promise<NamespaceStream[]> {
  const suffixes = knownSuffixes();
  const out: NamespaceStream[] = [];
  for (const name of await streamNames(bus)) {
    const kind = classify(name, namespace, suffixes);
    if (kind === undefined) continue;
    const info = await streamInfo(bus, name);
    const entry: NamespaceStream = { stream: name, kind, messages: info.messages, bytes: info.bytes };
    if (kind === 'kv') entry.bucket = name.slice('KV_'.length);
    if (kind === 'object store') entry.bucket = name.slice('OBJ_'.length);
    out.push(entry);
  }
  return out.sort((a, b) => a.stream.localeCompare(b.stream));
}

function classify(
  name: string,
  namespace: string,
  suffixes: ReadonlySet<string>,
): NamespaceStream['kind'] | undefined {
  const prefixes: [string, NamespaceStream['kind']][] = [
    [`BATON_${namespace}_`, 'stream'],
    [`KV_BATON_${namespace}_`, 'kv'],
    [`OBJ_BATON_${namespace}_`, 'object store'],
  ];
  for (const [prefix, kind] of prefixes) {
    if (name.startsWith(prefix) && suffixes.has(name.slice(prefix.length))) return kind;
  }
  return undefined;
}

function describe(found: readonly NamespaceStream[]): string[] {
  return found.map(
    (stream) => `${label(stream)}: ${plural(stream.messages, 'message')}, ${size(stream.bytes)}`,
  );
}

function label(stream: NamespaceStream): string {
  return stream.kind === 'stream' ? `stream ${stream.stream}` : `${stream.kind} bucket ${stream.bucket}`;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// The JetStream API, as documented JSON requests on `$JS.API.*`; each answer is checked before use.

const API_TIMEOUT_MS = 5_000;

async function api(bus: NatsBus, subject: string, body: unknown): Promise<Record<string, unknown>> {
  let answer: unknown;
  try {
    const reply = await bus.connection.request(subject, JSON.stringify(body), { timeout: API_TIMEOUT_MS });
    answer = JSON.parse(reply.string());
  } catch (error) {
    throw new CliError(
      `JetStream did not answer ${subject}: ${(error as Error).message}`,
      EXIT.UNAVAILABLE,
      'Is JetStream enabled on that server? Start one with: nats-server -js',
    );
  }
  if (typeof answer !== 'object' || answer === null) {
    throw new CliError(
      `JetStream answered ${subject} with something that is not an object`,
      EXIT.NOT_COMPLETED,
    );
  }
  const record = answer as Record<string, unknown>;
  const error = record.error as { description?: unknown; code?: unknown } | undefined;
  if (error && typeof error === 'object') {
    throw new CliError(
      `JetStream refused ${subject}: ${String(error.description ?? 'unknown error')} (${String(error.code ?? '?')})`,
      error.code === 403 ? EXIT.AUTH_FAILED : EXIT.NOT_COMPLETED,
    );
  }
  return record;
}

async function streamNames(bus: NatsBus): Promise<string[]> {
  const names: string[] = [];
  for (let offset = 0; ; ) {
    const page = await api(bus, '$JS.API.STREAM.NAMES', { offset });
    const streams = Array.isArray(page.streams)
      ? page.streams.filter((name) => typeof name === 'string')
      : [];
    names.push(...(streams as string[]));
    const total = typeof page.total === 'number' ? page.total : names.length;
    offset += streams.length;
    if (streams.length === 0 || offset >= total) return names;
  }
}

async function streamInfo(bus: NatsBus, name: string): Promise<{ messages: number; bytes: number }> {
  const info = await api(bus, `$JS.API.STREAM.INFO.${name}`, {});
  const state = (info.state ?? {}) as { messages?: unknown; bytes?: unknown };
  return {
    messages: typeof state.messages === 'number' ? state.messages : 0,
    bytes: typeof state.bytes === 'number' ? state.bytes : 0,
  };
}

async function deleteStream(bus: NatsBus, name: string): Promise<void> {
  const answer = await api(bus, `$JS.API.STREAM.DELETE.${name}`, {});
  if (answer.success !== true) {
    throw new CliError(`JetStream did not delete ${name}`, EXIT.NOT_COMPLETED);
  }
}
