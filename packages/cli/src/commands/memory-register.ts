import { type Command, Option } from 'commander';
import type { Io } from '../io.js';
import { namespaceToken, positiveInteger } from '../parse.js';

/**
 * `baton memory …`, registered here so program.ts stays one line for it. Only the definitions: the
 * commands (and the stores they open) load when one runs.
 */
export function registerMemoryCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  const memory = program
    .command('memory')
    .description(
      'view, export and erase long-term memory: files in .baton/memory, NATS KV (--nats / NATS_URL) or PostgreSQL (--postgres)',
    );
  const backend = (command: Command) =>
    command
      .option('--dir <path>', 'a file memory store (default .baton/memory)')
      .option('--nats <url>', 'the memory bucket of this NATS server (default NATS_URL)')
      .option('--namespace <ns>', 'with --nats: the bus namespace (tenant) of the bucket', namespaceToken)
      .option('--postgres <connection>', 'a PostgreSQL memory store, e.g. postgresql://user@host/db')
      .option('--schema <name>', 'with --postgres: the schema of its tables (default baton_memory)')
      .option('--tenant <id>', 'the tenant (default: the --namespace with NATS, else "default")');
  const load = () => import('./memory.js');

  backend(
    memory
      .command('list')
      .description(
        "a user's memory, every scope unless --scope names one (scope, key, kind, version, source, age, value)",
      ),
  )
    .option('--user <id>', 'whose memory (omit for the tenant-wide memory)')
    .option('--scope <scope>', 'one scope only, e.g. agent:researcher (default: every scope of the user)')
    .addOption(new Option('--kind <kind>', 'only facts, episodes or summaries').choices(KINDS))
    .option('--limit <n>', 'at most this many', positiveInteger('--limit'))
    .option('--json', 'print the records as JSON')
    .action((flags) => finish(load().then(({ memoryListCommand }) => memoryListCommand(flags, io))));

  backend(
    memory
      .command('show')
      .description('one record in full: value, provenance, expiry, and its earlier versions')
      .argument('<key>', 'the key of the record'),
  )
    .option('--user <id>', 'whose memory (omit for the tenant-wide memory)')
    .option('--scope <scope>', 'the scope (default "default")')
    .option('--json', 'print the record and its history as JSON')
    .action((key: string, flags) =>
      finish(load().then(({ memoryShowCommand }) => memoryShowCommand(key, flags, io))),
    );

  backend(
    memory
      .command('forget')
      .description(
        'erase one record (--key) or everything of a user in every scope, with history: prints how many',
      ),
  )
    .requiredOption('--user <id>', 'whose memory')
    .option('--key <key>', 'only this record (default: everything of the user)')
    .option('--scope <scope>', 'with --key: the scope of the record (default "default")')
    .option('--json', 'print the count as JSON')
    .action((flags) => finish(load().then(({ memoryForgetCommand }) => memoryForgetCommand(flags, io))));

  backend(
    memory
      .command('export')
      .description('everything stored of a user, every scope and every version, as one JSON document'),
  )
    .requiredOption('--user <id>', 'whose memory')
    .option('--out <file>', 'write it to this new file (owner-only) instead of stdout')
    .action((flags) => finish(load().then(({ memoryExportCommand }) => memoryExportCommand(flags, io))));

  for (const [verb, optOut, description] of [
    ['opt-out', true, 'erase a user’s memory and refuse every later write about them, until opt-in'],
    ['opt-in', false, 'let memory about a user that opted out be written again'],
  ] as const) {
    backend(memory.command(verb).description(description))
      .requiredOption('--user <id>', 'whose memory')
      .option('--json', 'print the outcome as JSON')
      .action((flags) => finish(load().then(({ memoryOptCommand }) => memoryOptCommand(optOut, flags, io))));
  }
}

const KINDS = ['fact', 'episode', 'summary'];
