import { type Command, Option } from 'commander';
import type { Io } from '../io.js';
import { namespaceToken, portNumber, positiveInteger, seconds } from '../parse.js';

/**
 * baton serve, baton worker and baton agents: the HTTP gateway, the workers on NATS and the list of them.
 * Only the definitions: the command modules load when one runs.
 */
export function registerServingCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  program
    .command('serve')
    .description(
      'the HTTP gateway: sync, streamed (SSE) and async runs, approvals, API keys, rate limits, OpenAPI',
    )
    .option('--port <n>', `port to listen on (default 8787; 0 picks a free one)`, portNumber)
    .option('--host <address>', 'address to listen on (default 127.0.0.1; others need API keys)')
    .option('--nats <url>', 'keep runs, jobs, journals and approvals on NATS: async jobs survive a restart')
    .option('--namespace <ns>', 'the tenant of requests when no API keys are configured', namespaceToken)
    .option('--config <file>', 'a JSON configuration: keys, tenants, rate limits, body limit, webhooks, runs')
    .option('--remote-members', "with --nats: teams' members run on workers (`baton worker`)")
    .option(
      '--drain-timeout <seconds>',
      'on Ctrl-C, how long runs in flight may finish before they are stopped (default 10)',
      seconds('--drain-timeout'),
    )
    .action((flags) => finish(import('./serve.js').then(({ serveCommand }) => serveCommand(flags, io))));

  program
    .command('worker')
    .description('serve one agent on NATS until SIGINT/SIGTERM, then drain and exit')
    .argument('<agent>', 'researcher, writer, reviewer (or drafter, fact-checker, editor, judge)')
    .option('--nats <url>', 'the NATS server, e.g. nats://127.0.0.1:4222')
    .option('--namespace <ns>', 'the bus namespace (tenant) to serve in', namespaceToken)
    .option('--concurrency <n>', 'runs at once (default 16)', positiveInteger('--concurrency'))
    .option('--durable', 'also take invocations from the JetStream work queue (survives worker crashes)')
    .option(
      '--journal',
      "journal every run served and pause calls that need a person into the namespace's approvals (JetStream)",
    )
    .option(
      '--drain-timeout <seconds>',
      'on Ctrl-C, how long runs in flight may finish before they are aborted (default 30)',
      seconds('--drain-timeout'),
    )
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics on this port at /metrics (0 picks a free one)',
      portNumber,
    )
    .addOption(
      new Option('--heartbeat <ms>', 'registry heartbeat period')
        .argParser(positiveInteger('--heartbeat'))
        .hideHelp(),
    )
    .action((agent: string, flags) =>
      finish(import('./worker.js').then(({ workerCommand }) => workerCommand(agent, flags, io))),
    );

  program
    .command('agents')
    .description('list the workers on the bus: agent, contract, instances, load')
    .option('--nats <url>', 'the NATS server')
    .option('--namespace <ns>', 'the bus namespace (tenant)', namespaceToken)
    .option('--wait <ms>', 'how long to collect answers (default 500)', positiveInteger('--wait'))
    .option('--json', 'print JSON')
    .action((flags) => finish(import('./agents.js').then(({ agentsCommand }) => agentsCommand(flags, io))));
}
