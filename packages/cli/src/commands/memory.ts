import { writeFile } from 'node:fs/promises';
import {
  BatonError,
  type MemoryKind,
  type MemoryNamespace,
  type MemorySubject,
  memoryNamespaceSchema,
  parseKey,
} from '@baton/core';
import { CliError, EXIT } from '../errors.js';
import { type Io, selfCommand } from '../io.js';
import { shellCommand } from '../stores.js';
import { type MemoryBackendFlags, type MemoryHandle, withMemoryStore } from './memory-store.js';
import { currentVersions, exportDocument, namespaceLine, recordDetail, recordsTable } from './memory-text.js';

/** Whose memory: `--tenant` (default: the bus namespace, or `default`), `--user`, `--scope`. */
export interface MemoryWhoFlags extends MemoryBackendFlags {
  tenant?: string;
  user?: string;
  scope?: string;
}

export interface MemoryListFlags extends MemoryWhoFlags {
  kind?: MemoryKind;
  limit?: number;
  json?: boolean;
}

export interface MemoryShowFlags extends MemoryWhoFlags {
  json?: boolean;
}

export interface MemoryForgetFlags extends MemoryWhoFlags {
  key?: string;
  json?: boolean;
}

export interface MemoryExportFlags extends MemoryWhoFlags {
  out?: string;
}

/**
 * `baton memory list`: the live records of a user (every scope, unless `--scope` names one) or of the
 * tenant-wide memory (no `--user`), most recently updated first.
 */
export async function memoryListCommand(flags: MemoryListFlags, io: Io): Promise<number> {
  return withMemoryStore(flags, async (handle) => {
    const ns = namespaceOf(flags, handle, { scopeDefault: flags.user === undefined });
    const everyScope = ns.scope === undefined;
    const records = everyScope
      ? currentVersions(await handle.store.exportSubject(subjectOf(ns)))
          .filter((record) => flags.kind === undefined || record.kind === flags.kind)
          .slice(0, flags.limit)
      : await handle.store.list(ns, {
          ...(flags.kind === undefined ? {} : { kind: flags.kind }),
          ...(flags.limit === undefined ? {} : { limit: flags.limit }),
        });
    if (flags.json) {
      io.out(JSON.stringify(records, null, 2));
      return EXIT.OK;
    }
    const what = `${flags.kind === undefined ? 'memory' : `${flags.kind} records`} of ${namespaceLine(ns)}${everyScope ? ' (every scope)' : ''}`;
    const optedOut = ns.user !== undefined && (await handle.store.isOptedOut(subjectOf(ns)));
    if (records.length === 0) {
      io.out(`No ${what} in ${handle.describe}.`);
    } else {
      io.out(`${capitalize(what)} in ${handle.describe}:`);
      io.out('');
      io.out(recordsTable(records));
      io.out('');
      const first = records[0];
      if (first) io.out(`Show one: ${again(handle, ['memory', 'show', first.key], first.namespace)}`);
    }
    if (optedOut) io.out(`User ${ns.user} opted out of memory: nothing about them is stored.`);
    return EXIT.OK;
  });
}

/** `baton memory show <key>`: one record with its provenance and its earlier versions. */
export async function memoryShowCommand(key: string, flags: MemoryShowFlags, io: Io): Promise<number> {
  const k = keyOf(key, '<key>');
  return withMemoryStore(flags, async (handle) => {
    const ns = namespaceOf(flags, handle, { scopeDefault: true });
    const record = await handle.store.get(ns, k);
    if (!record) {
      throw new CliError(
        `No memory "${k}" of ${namespaceLine(ns)} in ${handle.describe}`,
        EXIT.USAGE,
        `List them: ${again(handle, ['memory', 'list'], { ...ns, scope: flags.scope })}`,
      );
    }
    const history = await handle.store.history(ns, k);
    io.out(flags.json ? JSON.stringify({ record, history }, null, 2) : recordDetail(record, history));
    return EXIT.OK;
  });
}

/**
 * `baton memory forget`: with `--key`, that record and its history; without, everything of the user in
 * every scope (their right to erasure). Prints how many records went.
 */
export async function memoryForgetCommand(flags: MemoryForgetFlags, io: Io): Promise<number> {
  if (flags.key === undefined && flags.scope !== undefined) {
    throw new CliError(
      '--scope only applies with --key: forgetting a user erases every scope',
      EXIT.USAGE,
      'Forget one record: --key <key> [--scope <scope>]',
    );
  }
  const key = flags.key === undefined ? undefined : keyOf(flags.key, '--key');
  return withMemoryStore(flags, async (handle) => {
    if (key !== undefined) {
      const ns = namespaceOf(flags, handle, { scopeDefault: true });
      const forgotten = (await handle.store.delete(ns, key)) ? 1 : 0;
      if (flags.json) io.out(JSON.stringify({ forgotten, key, namespace: ns }));
      else if (forgotten === 0) io.out(`Nothing to forget: no memory "${key}" of ${namespaceLine(ns)}.`);
      else io.out(`Forgot 1 record: "${key}" of ${namespaceLine(ns)}, with its history.`);
      return EXIT.OK;
    }
    const subject = subjectOf(namespaceOf(flags, handle, { scopeDefault: false }));
    const forgotten = await handle.store.forgetSubject(subject);
    if (flags.json) io.out(JSON.stringify({ forgotten, subject }));
    else {
      io.out(
        `Forgot ${forgotten} record${forgotten === 1 ? '' : 's'} of user ${subject.user} in tenant ${subject.tenant} (every scope, with their history).`,
      );
    }
    return EXIT.OK;
  });
}

/** `baton memory export`: everything stored of the user, every version, as one JSON document. */
export async function memoryExportCommand(flags: MemoryExportFlags, io: Io): Promise<number> {
  return withMemoryStore(flags, async (handle) => {
    const subject = subjectOf(namespaceOf(flags, handle, { scopeDefault: false }));
    const records = await handle.store.exportSubject(subject);
    const optedOut = await handle.store.isOptedOut(subject);
    const document = exportDocument(subject, handle.store.backend, optedOut, records);
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (flags.out === undefined) {
      io.out(text.trimEnd());
      return EXIT.OK;
    }
    try {
      // Personal data: owner-only, and never over an existing file.
      await writeFile(flags.out, text, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(
        code === 'EEXIST'
          ? `${flags.out} exists already: the export does not overwrite files`
          : `Cannot write ${flags.out}: ${(error as Error).message}`,
        EXIT.USAGE,
        code === 'EEXIST' ? 'Choose another --out, or remove the file first' : undefined,
      );
    }
    const { memories, versions } = document.counts;
    io.out(
      `Exported ${memories} memor${memories === 1 ? 'y' : 'ies'} (${versions} version${versions === 1 ? '' : 's'}) of user ${subject.user} in tenant ${subject.tenant} to ${flags.out}.`,
    );
    return EXIT.OK;
  });
}

/** `baton memory opt-out` / `opt-in`: erase and refuse every later write, or allow writes again. */
export async function memoryOptCommand(
  optOut: boolean,
  flags: MemoryWhoFlags & { json?: boolean },
  io: Io,
): Promise<number> {
  return withMemoryStore(flags, async (handle) => {
    const subject = subjectOf(namespaceOf(flags, handle, { scopeDefault: false }));
    // Counted first: the store's opt-out erases too, but does not say how much.
    const forgotten = optOut ? await handle.store.forgetSubject(subject) : 0;
    await handle.store.setOptOut(subject, optOut);
    if (flags.json) io.out(JSON.stringify({ optedOut: optOut, forgotten, subject }));
    else if (optOut) {
      io.out(
        `User ${subject.user} in tenant ${subject.tenant} opted out: ${forgotten} record${forgotten === 1 ? '' : 's'} erased, and nothing about them is stored until they opt in again.`,
      );
    } else {
      io.out(`User ${subject.user} in tenant ${subject.tenant} opted in: their memory is written again.`);
    }
    return EXIT.OK;
  });
}

/**
 * The namespace the flags name, checked by the stores' own schema so a bad value is a usage error naming
 * the flag. `scope` stays undefined (every scope of the user) unless given or `scopeDefault`.
 */
function namespaceOf(
  flags: MemoryWhoFlags,
  handle: MemoryHandle,
  options: { scopeDefault: boolean },
): MemoryNamespace {
  const raw: MemoryNamespace = { tenant: flags.tenant ?? handle.defaultTenant };
  if (flags.user !== undefined) raw.user = flags.user;
  const scope = flags.scope ?? (options.scopeDefault ? 'default' : undefined);
  if (scope !== undefined) raw.scope = scope;
  const parsed = memoryNamespaceSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = `--${String(issue?.path[0] ?? 'tenant')}`;
    throw new CliError(`${flag} is not valid: ${issue?.message ?? 'invalid'}`, EXIT.USAGE);
  }
  return raw;
}

function subjectOf(ns: MemoryNamespace): MemorySubject {
  if (ns.user === undefined) throw new CliError('--user is required here', EXIT.USAGE);
  return { tenant: ns.tenant, user: ns.user };
}

function keyOf(key: string, what: string): string {
  try {
    return parseKey(key);
  } catch (error) {
    if (!BatonError.is(error, 'INPUT_INVALID')) throw error;
    throw new CliError(
      `${what} is not valid: ${error.message.replace(/^Invalid memory key: /, '')}`,
      EXIT.USAGE,
    );
  }
}

/** A `baton memory …` command line reaching the same store and namespace. */
function again(handle: MemoryHandle, words: string[], ns: MemoryNamespace): string {
  const who = [
    ...(ns.tenant === handle.defaultTenant ? [] : ['--tenant', ns.tenant]),
    ...(ns.user === undefined ? [] : ['--user', ns.user]),
    ...(ns.scope === undefined || ns.scope === 'default' ? [] : ['--scope', ns.scope]),
  ];
  return `${selfCommand()} ${shellCommand([...words, ...who, ...handle.flags])}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
