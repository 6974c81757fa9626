import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { namespaceToken, positiveInteger, seconds } from '../parse.js';

/** baton rollout promote|rollback|status|watch and the persistent kill switch, baton kill/unkill (issue 16 item 5). Only the definitions: the command modules load when one runs. */
export function registerRolloutCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  const nats = (command: Command) =>
    command
      .option('--nats <url>', 'the NATS server')
      .option('--namespace <ns>', 'the bus namespace (tenant)', namespaceToken);
  const rolloutModule = () => import('./rollout.js');

  const rollout = program
    .command('rollout')
    .description(
      "an agent's bundle pointer in NATS KV: production, a canary with a traffic share, and its history",
    );

  nats(
    rollout
      .command('status')
      .description('the production bundle, the canary and its share, and the history of changes')
      .argument('<agent>', 'the agent'),
  )
    .option('--json', 'print the pointer as JSON')
    .action((agent: string, flags) =>
      finish(rolloutModule().then(({ rolloutStatusCommand }) => rolloutStatusCommand(agent, flags, io))),
    );

  nats(
    rollout
      .command('promote')
      .description(
        'make a bundle production (ending any canary), or with --canary route a share of runs to it',
      )
      .argument('<agent>', 'the agent'),
  )
    .requiredOption('--bundle <id>', 'the bundle id (sha256:..., as `baton bundle show` prints it)')
    .option('--canary', 'route only --share of the runs to it, beside production')
    .option('--share <fraction>', 'with --canary: the share of runs, 0 < share ≤ 1 (default 0.1)', shareArg)
    .option('--reason <text>', 'why (kept in the history)')
    .option('--json', 'print the new pointer as JSON')
    .action((agent: string, flags) =>
      finish(rolloutModule().then(({ rolloutPromoteCommand }) => rolloutPromoteCommand(agent, flags, io))),
    );

  nats(
    rollout
      .command('rollback')
      .description('end the canary; with none, put the previous production bundle back')
      .argument('<agent>', 'the agent'),
  )
    .option('--reason <text>', 'why (kept in the history)')
    .option('--json', 'print the new pointer as JSON')
    .action((agent: string, flags) =>
      finish(rolloutModule().then(({ rolloutRollbackCommand }) => rolloutRollbackCommand(agent, flags, io))),
    );

  nats(
    rollout
      .command('watch')
      .description(
        "compare each canary's success rate with production's and roll it back automatically when it drops (runs until Ctrl-C)",
      ),
  )
    .option('--agent <name...>', 'only these agents (default: every agent with a pointer)')
    .option('--window <seconds>', 'judge the outcomes of this long (default 600)', seconds('--window'))
    .option(
      '--min-samples <n>',
      'outcomes both arms need first (default 20)',
      positiveInteger('--min-samples'),
    )
    .option('--max-drop <points>', 'roll back at this many points below production (default 10)', pointsArg)
    .option('--min-success <percent>', 'also roll back a canary below this success rate, e.g. 90', pointsArg)
    .action((flags) =>
      finish(rolloutModule().then(({ rolloutWatchCommand }) => rolloutWatchCommand(flags, io))),
    );

  const killModule = () => import('./kill.js');
  nats(
    program
      .command('kill')
      .description(
        "stop a namespace's workers (or one agent's) now and keep them stopped: a KV flag new workers honour too (operators only)",
      ),
  )
    .option('--agent <name>', "only this agent's workers (default every agent of the namespace)")
    .option('--reason <text>', 'why: every refused or aborted run carries it', 'stopped by an operator')
    .option('--status', 'print the kill flags set now instead of setting one')
    .option('--json', 'print JSON')
    .action((flags) => finish(killModule().then(({ killCommand }) => killCommand(flags, io))));

  nats(
    program
      .command('unkill')
      .description('clear a kill flag: the stopped workers take work again (operators only)'),
  )
    .option('--agent <name>', "clear this agent's flag (default the namespace's)")
    .action((flags) => finish(killModule().then(({ unkillCommand }) => unkillCommand(flags, io))));
}

function shareArg(value: string): number {
  const share = Number(value);
  if (!(Number.isFinite(share) && share > 0 && share <= 1)) {
    throw new CliError(
      `--share must be a fraction with 0 < share ≤ 1, e.g. 0.1 (got "${value}")`,
      EXIT.USAGE,
    );
  }
  return share;
}

function pointsArg(value: string): number {
  const points = Number(value);
  if (!(Number.isFinite(points) && points >= 0 && points <= 100)) {
    throw new CliError(`expected percentage points from 0 to 100 (got "${value}")`, EXIT.USAGE);
  }
  return points;
}
