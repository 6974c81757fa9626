import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { namespaceToken, positiveInteger, seconds } from './parse.js';

/** What a command resolves to: the process exit code. */
type Action = Promise<number>;

/**
 * The `baton` command line. Each command's module is loaded only when it runs, so `baton --help` and
 * `baton trace` start fast and only `run` and `worker` load the agents and the OpenTelemetry SDK.
 */
export function createProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('baton')
    .description('Run teams of AI agents: locally, or across processes over NATS.')
    .version('0.1.0')
    .showHelpAfterError()
    // Usage errors throw (exit code 2 in bin.ts) instead of exiting from inside commander.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });

  const finish = async (action: Action) => done(await action);

  program
    .command('run')
    .description('run a team on a topic and print its report, per-agent table and trace id')
    .argument('<team>', 'research, research-supervisor, debate, or a path to a module that exports a team')
    .option('-t, --topic <text>', 'what the team works on')
    .option('--nats <url>', 'run the members on workers over NATS (start them with `baton worker`)')
    .option('--namespace <ns>', 'the bus namespace (tenant) of the workers', namespaceToken)
    .option('--timeout <seconds>', 'stop the team after this long (default 120)', seconds('--timeout'))
    .option(
      '--wait-workers <seconds>',
      'with --nats: how long to wait for the workers (default 5)',
      seconds('--wait-workers'),
    )
    .option('--json', 'print the team result as one JSON document on stdout')
    .option('-q, --quiet', 'no progress lines')
    .option('-v, --verbose', 'also print every step')
    .action((team: string, flags) =>
      finish(import('./commands/run.js').then(({ runCommand }) => runCommand(team, flags, io))),
    );

  program
    .command('worker')
    .description('serve one agent on NATS until SIGINT/SIGTERM, then drain and exit')
    .argument('<agent>', 'researcher, writer, reviewer (or drafter, fact-checker, editor, judge)')
    .requiredOption('--nats <url>', 'the NATS server, e.g. nats://127.0.0.1:4222')
    .option('--namespace <ns>', 'the bus namespace (tenant) to serve in', namespaceToken)
    .option('--concurrency <n>', 'runs at once (default 16)', positiveInteger('--concurrency'))
    .option('--durable', 'also take invocations from the JetStream work queue (survives worker crashes)')
    .option(
      '--drain-timeout <seconds>',
      'on Ctrl-C, how long runs in flight may finish before they are aborted (default 30)',
      seconds('--drain-timeout'),
    )
    .addOption(
      new Option('--heartbeat <ms>', 'registry heartbeat period')
        .argParser(positiveInteger('--heartbeat'))
        .hideHelp(),
    )
    .action((agent: string, flags) =>
      finish(import('./commands/worker.js').then(({ workerCommand }) => workerCommand(agent, flags, io))),
    );

  program
    .command('agents')
    .description('list the workers on the bus: agent, contract, instances, load')
    .requiredOption('--nats <url>', 'the NATS server')
    .option('--namespace <ns>', 'the bus namespace (tenant)', namespaceToken)
    .option('--wait <ms>', 'how long to collect answers (default 500)', positiveInteger('--wait'))
    .option('--json', 'print JSON')
    .action((flags) =>
      finish(import('./commands/agents.js').then(({ agentsCommand }) => agentsCommand(flags, io))),
    );

  program
    .command('trace')
    .description("print a run's spans as a tree, from the local trace files (.baton/traces)")
    .argument('<id>', 'a run id, a trace id (or a unique prefix), or "last"')
    .option('--dir <path>', 'trace files directory (default ./.baton/traces)')
    .option('--json', 'print the spans as JSON')
    .action((reference: string, flags) =>
      finish(import('./commands/trace.js').then(({ traceCommand }) => traceCommand(reference, flags, io))),
    );

  return program;
}
