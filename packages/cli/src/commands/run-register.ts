import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { namespaceToken, seconds } from '../parse.js';
import { runIdArg } from '../stores.js';

/**
 * baton run and baton resume: run a team, and resume a journaled run. Only the definitions: the command
 * modules load when one runs.
 */
export function registerRunCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
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
      finish(import('./run.js').then(({ runCommand }) => runCommand(team, flags, io))),
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
      finish(import('./resume.js').then(({ resumeCommand }) => resumeCommand(runId, flags, io))),
    );
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
