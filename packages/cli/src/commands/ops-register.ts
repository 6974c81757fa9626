import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { positiveInteger } from '../parse.js';

/** baton stats (the seed's alert thresholds over recent runs) and baton bundle show|diff (issue 16 items 1-2). Only the definitions: the command modules load when one runs. */
export function registerOpsCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  program
    .command('stats')
    .description(
      'the alert thresholds (success, steps, p99 latency, tokens, cost, tool errors, escalations) over recent runs; exit 1 when one alerts',
    )
    .option('--since <when>', 'runs started since: 30m, 24h, 7d back, or a date (default 24h)')
    .option('--kind <kind>', 'top (default: runs nothing else started), team, agent or all', kindOf)
    .option('--limit <n>', 'at most the latest N runs', positiveInteger('--limit'))
    .option('--dir <path>', 'the trace files (default .baton/traces)')
    .option('--json', 'print the figures and rule states as JSON')
    .action((flags) => finish(import('./stats.js').then(({ statsCommand }) => statsCommand(flags, io))));

  const bundle = program
    .command('bundle')
    .description('versioned bundles: the hash of everything that changes how an agent or team behaves');
  bundle
    .command('show')
    .description('print a bundle hash and what it covers')
    .argument(
      '<ref>',
      'a team (research, ... or a module path), an agent (researcher, ...), or a bundle file',
    )
    .option('--json', 'print the whole bundle (hash, kind, name, covers): the file `bundle diff` reads')
    .action((reference: string, flags) =>
      finish(import('./bundle.js').then(({ bundleShowCommand }) => bundleShowCommand(reference, flags, io))),
    );
  bundle
    .command('diff')
    .description('list the fields that differ between two bundles; exit 0 when the same, 1 when they differ')
    .argument('<a>', 'a team, an agent, or a bundle file (baton bundle show --json)')
    .argument('<b>', 'another')
    .option('--json', 'print the changes as JSON')
    .action((a: string, b: string, flags) =>
      finish(import('./bundle.js').then(({ bundleDiffCommand }) => bundleDiffCommand(a, b, flags, io))),
    );
}

function kindOf(value: string): 'top' | 'team' | 'agent' | 'all' {
  if (value === 'top' || value === 'team' || value === 'agent' || value === 'all') return value;
  throw new CliError(`--kind must be top, team, agent or all, not "${value}"`, EXIT.USAGE);
}
