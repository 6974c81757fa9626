import type { Command } from 'commander';

/**
 * How a command logs in to NATS: commander's names for the flags below. Kept apart from nats.ts so
 * program.ts can add the flags without loading the bus.
 */
export interface NatsAuthFlags {
  natsUser?: string;
  natsPassword?: string;
  natsCreds?: string;
  inboxPrefix?: string;
}

/** The login flags, on every command that takes `--nats`. */
export function natsAuthOptions(command: Command): Command {
  return command
    .option(
      '--nats-user <user>',
      'log in to NATS as this user (or NATS_USER), e.g. a tenant user of `baton nats-config`',
    )
    .option(
      '--nats-password <password>',
      "the user's password (or NATS_PASSWORD: unlike a flag, the process list does not show it)",
    )
    .option('--nats-creds <file>', 'log in with a NATS credentials file instead (or NATS_CREDS)')
    .option(
      '--inbox-prefix <prefix>',
      "where replies come back (default with a login: the tenant's _INBOX_<namespace>)",
    );
}

/**
 * The login flags on every command under `parent` that takes `--nats`, so none is forgotten, except the
 * `skip` ones (`baton serve`: one gateway serves every tenant, so one tenant's user does not fit it).
 */
export function addNatsLogin(parent: Command, skip: ReadonlySet<string>): void {
  for (const command of parent.commands) {
    if (skip.has(command.name())) continue;
    if (command.options.some((option) => option.long === '--nats')) natsAuthOptions(command);
    addNatsLogin(command, skip);
  }
}
