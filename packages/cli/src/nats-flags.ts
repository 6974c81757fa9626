import type { Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import { selfCommand } from './io.js';

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
 * Every `--nats` also says in its help that NATS_URL is its default (each command reads it through
 * `natsUrlOf`).
 */
export function addNatsLogin(parent: Command, skip: ReadonlySet<string>): void {
  for (const command of parent.commands) {
    const nats = command.options.find((option) => option.long === '--nats');
    if (nats && !nats.description.includes('NATS_URL')) nats.description += ' (default NATS_URL)';
    if (nats && !skip.has(command.name())) natsAuthOptions(command);
    addNatsLogin(command, skip);
  }
}

/** NATS_URL, when set and not blank: the server of every command that takes `--nats`. */
export function envNatsUrl(): string | undefined {
  const url = process.env.NATS_URL?.trim();
  return url ? url : undefined;
}

/** The server a command talks to: its `--nats` flag, else NATS_URL, else none. */
export function natsUrlOf(flag: string | undefined): string | undefined {
  const given = flag?.trim();
  return given ? given : envNatsUrl();
}

/**
 * A command that needs NATS: `--nats`, else NATS_URL, else a usage error whose hint is the command again
 * with a local server's URL (`words`: the command's words after `baton`, shell-quoted).
 */
export function requireNatsUrl(flag: string | undefined, words: string): string {
  const url = natsUrlOf(flag);
  if (url !== undefined) return url;
  throw new CliError(
    `baton ${words.split(' ')[0]} needs a NATS server: pass --nats <url> or set NATS_URL`,
    EXIT.USAGE,
    `${selfCommand()} ${words} --nats nats://127.0.0.1:4222`,
  );
}
