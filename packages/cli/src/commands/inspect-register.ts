import type { Command } from 'commander';
import type { Io } from '../io.js';
import { namespaceToken, positiveInteger } from '../parse.js';

/**
 * baton trace and baton audit: read what runs left behind (their spans, the audit log). Only the
 * definitions: the command modules load when one runs.
 */
export function registerInspectCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  program
    .command('trace')
    .description("print a run's spans as a tree, from the local trace files (.baton/traces)")
    .argument('<id>', 'a run id, a trace id (or a unique prefix), or "last"')
    .option('--dir <path>', 'trace files directory (default ./.baton/traces)')
    .option('--json', 'print the spans as JSON')
    .action((reference: string, flags) =>
      finish(import('./trace.js').then(({ traceCommand }) => traceCommand(reference, flags, io))),
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
        import('./audit-verify.js').then(({ auditVerifyCommand }) => auditVerifyCommand(source, flags, io)),
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
      finish(import('./audit-show.js').then(({ auditShowCommand }) => auditShowCommand(source, flags, io))),
    );
}
