import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { registerA2aCommands } from './commands/a2a-register.js';
import { registerEvalCommands } from './commands/eval-register.js';
import { registerHousekeepingCommands } from './commands/housekeeping-register.js';
import { registerMemoryCommands } from './commands/memory-register.js';
import { registerOpsCommands } from './commands/ops-register.js';
import { registerRolloutCommands } from './commands/rollout-register.js';
import { registerViewCommands } from './commands/view-register.js';
import { CliError, EXIT } from './errors.js';
import type { Io } from './io.js';
import { addNatsLogin } from './nats-flags.js';
import { namespaceToken, portNumber, positiveInteger, seconds } from './parse.js';
import { runIdArg } from './stores.js';

/** What a command resolves to: the process exit code. */
type Action = Promise<number>;

/**
 * The `baton` command line. Each command's module is loaded only when it runs, so `baton --help` and
 * `baton trace` start fast and only `run` and `worker` load the agents and the OpenTelemetry SDK.
 */
export function createProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('baton')
    .description('Run teams of AI agents: locally, or across processes over NATS.')
    .version(cliVersion())
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
    .option('--no-nats', 'run every member in this process, even when NATS_URL is set')
    .option('--namespace <ns>', 'the bus namespace (tenant) of the workers', namespaceToken)
    .option('--timeout <seconds>', 'stop the team after this long (default 120)', seconds('--timeout'))
    .option(
      '--planner <kind>',
      'how the local researcher works: react (step by step, default) or plan-execute (a validated plan first)',
      plannerKind,
    )
    .option(
      '--wait-workers <seconds>',
      'with --nats: how long to wait for the workers (default 5)',
      seconds('--wait-workers'),
    )
    .option(
      '--journal',
      'journal the run so it can pause for approval and resume anywhere (files in .baton, or JetStream with --nats)',
    )
    .option('--no-wait', 'with --journal: when the run pauses, print the pending calls and exit (code 4)')
    .option('--dir <path>', 'with --journal: directory of the journal and approvals (default .baton)')
    .option(
      '--run-id <id>',
      'with --journal: the run id (default <team>-<time>-<random>)',
      runIdArg('--run-id'),
    )
    .option(
      '--approval-timeout <seconds>',
      'with --journal: a call not decided within this time counts as denied (default: no limit)',
      seconds('--approval-timeout'),
    )
    .option('--json', 'print the team result as one JSON document on stdout')
    .option('-q, --quiet', 'no progress lines')
    .option('-v, --verbose', 'also print every step and the text the models stream')
    .addHelpText('after', RUN_ENVIRONMENT)
    .action((team: string, flags) =>
      finish(import('./commands/run.js').then(({ runCommand }) => runCommand(team, flags, io))),
    );

  program
    .command('resume')
    .description(
      'resume a journaled team run (paused for approval, or whose process stopped); recorded steps replay, recorded tool calls never run again',
    )
    .argument('<runId>', 'the run id printed by `baton run --journal`')
    .option(
      '--nats <url>',
      'the run is journaled on this NATS server (default NATS_URL); members run on its workers',
    )
    .option('--namespace <ns>', 'the bus namespace (tenant) of the run', namespaceToken)
    .option('--dir <path>', 'directory of the journal and approvals (default .baton)')
    .option('--team <name|module>', 'the team to resume with (default: the team named in the journal)')
    .option(
      '--timeout <seconds>',
      'the team timeout the run was started with (default 120)',
      seconds('--timeout'),
    )
    .option('--no-wait', 'when the run pauses again, print the pending calls and exit (code 4)')
    .option(
      '--approval-timeout <seconds>',
      'a new call not decided within this time counts as denied',
      seconds('--approval-timeout'),
    )
    .option('--migrate', 'resume a journal written by another team configuration anyway')
    .option(
      '--wait-workers <seconds>',
      'with --nats: how long to wait for the workers (default 5)',
      seconds('--wait-workers'),
    )
    .option('--json', 'print the team result as one JSON document on stdout')
    .option('-q, --quiet', 'no progress lines')
    .option('-v, --verbose', 'also print every step')
    .action((runId: string, flags) =>
      finish(import('./commands/resume.js').then(({ resumeCommand }) => resumeCommand(runId, flags, io))),
    );

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
  const approvalsModule = () => import('./commands/approvals.js');

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
    .action((flags) =>
      finish(import('./commands/serve.js').then(({ serveCommand }) => serveCommand(flags, io))),
    );

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
      finish(import('./commands/worker.js').then(({ workerCommand }) => workerCommand(agent, flags, io))),
    );

  program
    .command('agents')
    .description('list the workers on the bus: agent, contract, instances, load')
    .option('--nats <url>', 'the NATS server')
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

  const audit = program
    .command('audit')
    .description('check and read the audit log: a JSON-lines file, or the JetStream stream with --nats');
  const auditSource = (command: Command) =>
    command
      .option('--nats <url>', 'read the audit stream of this NATS server instead of a file')
      .option('--namespace <ns>', 'with --nats: the bus namespace (tenant) of the stream', namespaceToken)
      .option('--stream <name>', 'with --nats: a stream name other than BATON_<ns>_AUDIT');

  auditSource(
    audit
      .command('verify')
      .description(
        'check the hash chain and the signed heads; print the first broken link and exit non-zero (5) if any',
      )
      .argument('[source]', 'a JSON-lines audit file, or a nats:// URL (same as --nats)'),
  )
    .option(
      '--public-key <pem file>',
      'the ed25519 public key of the signed heads (or BATON_AUDIT_PUBLIC_KEY)',
    )
    .option('--latest-head <json file>', 'the latest head, kept apart from the log: detects a cut tail')
    .option('--min-records <n>', 'at least this many records were written', positiveInteger('--min-records'))
    .option('--require-signed', 'fail when records after the last signed head exist (a closed log)')
    .option('--unsigned', 'no key at hand: check the hash chain alone')
    .option('--json', 'print the verdict as JSON')
    .action((source: string | undefined, flags) =>
      finish(
        import('./commands/audit-verify.js').then(({ auditVerifyCommand }) =>
          auditVerifyCommand(source, flags, io),
        ),
      ),
    );

  auditSource(
    audit
      .command('show')
      .description(
        'print the records one per line (tool calls, decisions, guard trips, run ends) and the heads',
      )
      .argument('[source]', 'a JSON-lines audit file, or a nats:// URL (same as --nats)'),
  )
    .option('--run <id>', 'only the records of this run')
    .option('--last <n>', 'only the last n records', positiveInteger('--last'))
    .option('--json', 'print the entries as JSON lines')
    .action((source: string | undefined, flags) =>
      finish(
        import('./commands/audit-show.js').then(({ auditShowCommand }) =>
          auditShowCommand(source, flags, io),
        ),
      ),
    );

  program
    .command('nats-config')
    .description(
      'print the nats-server configuration that isolates tenants: one account each, least-privilege users per role',
    )
    .argument(
      '<file>',
      'the tenants (JSON): names, JetStream limits, users with roles; a password, a passwordEnv variable, or none (generated)',
    )
    .option('--out <path>', 'write the configuration to this file (owner-only) instead of stdout')
    .option(
      '--credentials <path>',
      "also write every user's password and inbox prefix as JSON (owner-only), for the clients",
    )
    .action((file: string, flags) =>
      finish(
        import('./commands/nats-config.js').then(({ natsConfigCommand }) =>
          natsConfigCommand(file, flags, io),
        ),
      ),
    );

  const mcp = program
    .command('mcp')
    .description('the Model Context Protocol: serve an agent or a team as an MCP tool');
  mcp
    .command('serve')
    .description(
      'serve an agent or a team as one MCP tool, over stdio (default) or Streamable HTTP, until the client leaves or Ctrl-C',
    )
    .argument(
      '<agent|team>',
      'an agent (researcher, writer, …), a team (research, …), or a path to a team module',
    )
    .option('--http <port>', 'serve Streamable HTTP on this port (0 picks a free one) instead of stdio')
    .option(
      '--host <address>',
      'with --http: the address to listen on (default 127.0.0.1; others need --token)',
    )
    .option('--token <secret>', 'with --http: require `Authorization: Bearer <secret>` (or BATON_MCP_TOKEN)')
    .option('--timeout <seconds>', 'stop each run after this long', seconds('--timeout'))
    .option(
      '--concurrency <n>',
      'runs at once; more calls are answered "busy" (default 16)',
      positiveInteger('--concurrency'),
    )
    .action((reference: string, flags) =>
      finish(
        import('./commands/mcp-serve.js').then(({ mcpServeCommand }) =>
          mcpServeCommand(reference, flags, io),
        ),
      ),
    );

  registerMemoryCommands(program, io, finish);
  registerHousekeepingCommands(program, io, finish);
  registerA2aCommands(program, io, finish);
  registerViewCommands(program, io, finish);
  registerRolloutCommands(program, io, finish);
  registerEvalCommands(program, io, finish);
  registerOpsCommands(program, io, finish);
  addNatsLogin(program, new Set(['serve']));

  return program;
}

/** The variables `baton run` reads, in its --help. */
const RUN_ENVIRONMENT = `
Environment:
  OPENAI_API_KEY, ANTHROPIC_API_KEY   use that provider (else the offline model, no key needed)
  OPENAI_BASE_URL                     any OpenAI-compatible server (Ollama, vLLM, LM Studio, Groq, ...)
  BATON_MODEL=<provider:id>           the model every member uses, e.g. openai:gpt-4.1-mini; "offline" forces
                                      the offline model
  BATON_CHEAP_MODEL=<id>              a cheaper model for the steps that only pick the next tool call, in
                                      teams built with routing (examples/with-providers); the catalogue teams
                                      (research, debate, ...) use BATON_MODEL for every step
  NATS_URL                            the default of --nats: members run on workers (--no-nats: in process)
  OTEL_EXPORTER_OTLP_ENDPOINT         also send spans to this OTLP collector; OTEL_EXPORTER_OTLP_PROTOCOL is
                                      http/protobuf (default) or http/json
  BATON_TRACE_KEEP, BATON_TRACE_MAX_AGE
                                      retention of .baton/traces (default 200 traces, 30d; 0 = no limit)

The model line of the summary names the models the members really called.`;

/** `--planner`: react or plan-execute; anything else is a usage error that lists both. */
function plannerKind(value: string): 'react' | 'plan-execute' {
  if (value === 'react' || value === 'plan-execute') return value;
  throw new CliError(`--planner must be react or plan-execute (got "${value}")`, EXIT.USAGE);
}

/** The version of the installed @baton/cli (dist/program.js and src/program.ts sit one level under it). */
function cliVersion(): string {
  const manifest = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
