import { type Command, Option } from 'commander';
import type { Io } from '../io.js';
import { namespaceToken } from '../parse.js';

/**
 * baton approvals: list, show and decide the tool calls waiting for a person. Only the definitions: the
 * command module loads when one runs.
 */
export function registerApprovalsCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  const approvals = program
    .command('approvals')
    .description(
      'list and decide the tool calls waiting for a person (files in .baton/approvals, or NATS with --nats / NATS_URL)',
    );
  const storeOptions = (command: Command) =>
    command
      .option('--nats <url>', 'the approvals of this NATS server (default NATS_URL)')
      .option('--namespace <ns>', 'the bus namespace (tenant) with --nats', namespaceToken)
      .option('--dir <path>', 'a directory of approval files (default .baton/approvals)');
  const approvalsModule = () => import('./approvals.js');

  storeOptions(
    approvals
      .command('list')
      .description(
        'the calls waiting for a decision (run, call, tool, risk, reason, args, age, expiry, status)',
      ),
  )
    .addOption(
      new Option('--status <status>', 'which calls (default pending)').choices([
        'pending',
        'approved',
        'edited',
        'denied',
        'expired',
        'all',
      ]),
    )
    .option('--run <id>', 'only the calls of this run (a member run, or every member of a team run)')
    .option('--json', 'print the records as JSON')
    .action((flags) =>
      finish(approvalsModule().then(({ approvalsListCommand }) => approvalsListCommand(flags, io))),
    );

  storeOptions(
    approvals
      .command('show')
      .description('one call in full: arguments, preview, expiry, decision')
      .argument('<runId>', 'the run the call belongs to')
      .argument('<callId>', 'the tool call id'),
  )
    .option('--json', 'print the record as JSON')
    .action((runId: string, callId: string, flags) =>
      finish(
        approvalsModule().then(({ approvalsShowCommand }) => approvalsShowCommand(runId, callId, flags, io)),
      ),
    );

  const decide = (verb: 'approve' | 'deny' | 'edit', description: string) => {
    const command = storeOptions(
      approvals
        .command(verb)
        .description(description)
        .argument('<runId>', 'the run the call belongs to')
        .argument('<callId>', 'the tool call id'),
    );
    if (verb === 'deny') command.option('--reason <text>', 'why (the agent reads it)');
    if (verb === 'edit')
      command.requiredOption('--args <json>', 'the arguments the tool runs with instead (a JSON object)');
    command
      .option('--by <who>', 'who decides (default $USER@hostname)')
      .option('--json', 'print the decided record as JSON')
      .action((runId: string, callId: string, flags) =>
        finish(
          approvalsModule().then(({ approvalsDecideCommand }) =>
            approvalsDecideCommand(verb, runId, callId, flags, io),
          ),
        ),
      );
  };
  decide('approve', 'approve a pending call: it runs when the run resumes (once)');
  decide('deny', 'deny a pending call: the agent is told, and the tool does not run');
  decide('edit', 'approve a pending call with other arguments: those are what runs and what is recorded');
}
