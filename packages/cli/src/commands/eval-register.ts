import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { positiveInteger } from '../parse.js';
import { runIdArg } from '../stores.js';

/** baton eval <suite>, baton eval add-case <runId> and baton ab (issue 16 items 3-4). Only the definitions: the command modules load when one runs. */
export function registerEvalCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  const evaluate = program
    .command('eval')
    .description(
      'run a golden set (a suite file) and report per case, success rate, steps, tokens, cost and latency; exit 1 below the threshold',
    )
    .argument('<suite>', 'the suite file (JSON), e.g. evals/research.json')
    .option(
      '--variant <variant>',
      "run this variant instead of the suite's target: a suite variant, a team, a JSON file or inline JSON",
    )
    .option('--samples <n>', 'runs per case (default 1)', positiveInteger('--samples'))
    .option(
      '--threshold <rate>',
      "success rate (0–1) needed to exit 0 (default the suite's, else 1)",
      fraction('--threshold'),
    )
    .option('--out <file>', 'write the JSON report there, and the Markdown report beside it (.md)')
    .option(
      '--record [dir]',
      'record every run (model responses and tool results) into this directory (default .baton/recordings), for add-case',
    )
    .option('--case <id...>', 'only these cases')
    .option('--json', 'print the JSON report instead of the Markdown one')
    .option('-q, --quiet', 'no progress lines')
    .action((suite: string, flags) =>
      finish(import('./eval.js').then(({ evalCommand }) => evalCommand(suite, flags, io))),
    );

  evaluate
    .command('add-case')
    .description(
      'turn a recorded run into a regression case of a suite: its input, its tool results replayed, checks generated from it',
    )
    .argument('<runId>', 'the run: a recording in <dir>/recordings, or a journaled run (baton run --journal)')
    .requiredOption('--suite <file>', 'the suite file to append the case to')
    .option('--recording <file>', 'a recording file (instead of looking the run up)')
    .option('--dir <path>', 'the state directory with the journal and recordings (default .baton)')
    .option('--id <id>', 'the case id (default the run id)')
    .option('--name <text>', 'what the case is about')
    .option('--contains <text...>', 'also check that the output contains this text')
    .option('--regex <pattern...>', 'also check that the output matches this regular expression')
    .option('--json', 'print the new case as JSON')
    .action((runId: string, flags) =>
      finish(
        import('./eval-add-case.js').then(({ addCaseCommand }) =>
          addCaseCommand(runIdArg('runId')(runId), flags, io),
        ),
      ),
    );

  program
    .command('ab')
    .description(
      'paired A/B of two variants on a suite: McNemar for pass/fail, paired bootstrap CIs for cost, steps, tokens and latency',
    )
    .argument('<suite>', 'the suite file (JSON)')
    .requiredOption('--a <variant>', 'arm A: a suite variant, a team name, a JSON file or inline JSON')
    .requiredOption('--b <variant>', 'arm B: same forms as --a')
    .option('--samples <k>', 'runs per case and arm (default 1)', positiveInteger('--samples'))
    .option(
      '--seed <n>',
      'seed of the bootstrap (default 1): the same seed gives the same intervals',
      integer('--seed'),
    )
    .option('--iterations <n>', 'bootstrap resamples (default 2000)', positiveInteger('--iterations'))
    .option('--out <file>', 'write the JSON report there, and the Markdown report beside it (.md)')
    .option('--json', 'print the JSON report instead of the Markdown one')
    .option('-q, --quiet', 'no progress lines')
    .action((suite: string, flags) =>
      finish(import('./ab.js').then(({ abCommand }) => abCommand(suite, flags, io))),
    );
}

function fraction(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
      throw new CliError(`${flag} must be a number from 0 to 1 (got "${value}")`, EXIT.USAGE);
    }
    return parsed;
  };
}

function integer(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed))
      throw new CliError(`${flag} must be an integer (got "${value}")`, EXIT.USAGE);
    return parsed;
  };
}
