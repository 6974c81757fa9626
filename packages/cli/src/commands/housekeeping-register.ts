import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { namespaceToken, positiveInteger } from '../parse.js';

/**
 * `baton trace ls` and `baton trace prune` (the runs recorded in .baton/traces, and their retention), and
 * `baton nats purge` (a namespace's durable streams and buckets). Only the definitions: the command
 * modules load when one runs.
 */
export function registerHousekeepingCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  const trace = program.commands.find((command) => command.name() === 'trace');
  if (!trace) throw new CliError('the trace command must be defined before its subcommands', EXIT.USAGE);
  const traceLs = () => import('./trace-ls.js');

  trace
    .command('ls')
    .description('the recorded runs, newest first: run, team, status, start, duration, tokens')
    .option('--dir <path>', 'trace files directory (default ./.baton/traces)')
    .option('--limit <n>', 'at most this many runs (default 20)', positiveInteger('--limit'))
    .option('--json', 'print the index entries as JSON')
    // `trace` has --dir and --json too: commander gives them to it, so read the options of both.
    .action((_flags, command: Command) =>
      finish(traceLs().then(({ traceLsCommand }) => traceLsCommand(command.optsWithGlobals(), io))),
    );

  trace
    .command('prune')
    .description(
      'remove old traces now (runs and workers also do when they start): keep the newest --keep, none older than --max-age',
    )
    .option('--dir <path>', 'trace files directory (default ./.baton/traces)')
    .option('--keep <n>', 'traces to keep (default BATON_TRACE_KEEP, else 200; 0 = no count limit)')
    .option('--max-age <age>', 'e.g. 30d, 12h, 90m (default BATON_TRACE_MAX_AGE, else 30d; 0 = no age limit)')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'print the outcome as JSON')
    .action((_flags, command: Command) =>
      finish(traceLs().then(({ tracePruneCommand }) => tracePruneCommand(command.optsWithGlobals(), io))),
    );

  const nats = program.command('nats').description('housekeeping of the NATS server Baton uses');
  nats
    .command('purge')
    .description(
      "delete a namespace's JetStream streams and KV buckets (work queue, dead letters, journals, audit, approvals, memory, cache, jobs): lists them, deletes with --yes",
    )
    .requiredOption('--namespace <ns>', 'the namespace (tenant) whose streams go', namespaceToken)
    .option('--nats <url>', 'the NATS server')
    .option('--yes', 'delete them (without it, only the list)')
    .option('--json', 'print what was found and deleted as JSON')
    .action((flags) =>
      finish(import('./nats-purge.js').then(({ natsPurgeCommand }) => natsPurgeCommand(flags, io))),
    );
}
