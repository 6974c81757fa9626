import { BatonError } from '@baton/core';

/** Exit codes of the `baton` command. */
export const EXIT = {
  /** The team completed (or the command did what it was asked). */
  OK: 0,
  /** The team ran but did not complete (stopped, timeout, budget, failed, aborted). */
  NOT_COMPLETED: 1,
  /** Bad input: an unknown team, agent or trace, an invalid flag value. */
  USAGE: 2,
  /** The environment is not ready: NATS unreachable, no worker for a member, no nats-server. */
  UNAVAILABLE: 3,
  /**
   * A journaled team run waits for people to decide on tool calls (`--no-wait`, or Ctrl-C while
   * waiting): nothing failed, and `baton resume <runId>` continues it once they have decided.
   */
  PAUSED: 4,
  /** A check failed: `baton audit verify` found a broken link (a record modified, missing, out of place). */
  VERIFY_FAILED: 5,
  /**
   * NATS refused who you are (the user, password or credentials file) or, once logged in, what you asked
   * (a subject that user may not use): fixed by a login or a namespace, not by waiting for the server.
   */
  AUTH_FAILED: 6,
} as const;

/** An error the CLI reports in plain words, with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

const UNAVAILABLE_CODES = new Set(['BUS_DISCONNECTED', 'BUS_CLOSED', 'NO_RESPONDERS', 'JOURNAL_UNAVAILABLE']);
const AUTH_CODES = new Set(['BUS_AUTH_FAILED', 'BUS_PERMISSION_DENIED']);
const USAGE_CODES = new Set([
  'CONFIG_INVALID',
  'INPUT_INVALID',
  'AGENT_UNKNOWN',
  'MODEL_NOT_CONFIGURED',
  'APPROVAL_UNKNOWN',
  'RUN_UNKNOWN',
]);

/** Any thrown value as a CliError: BatonErrors keep their message and hint, with a fitting exit code. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof BatonError) {
    const code = UNAVAILABLE_CODES.has(error.code)
      ? EXIT.UNAVAILABLE
      : AUTH_CODES.has(error.code)
        ? EXIT.AUTH_FAILED
        : USAGE_CODES.has(error.code)
          ? EXIT.USAGE
          : EXIT.NOT_COMPLETED;
    return new CliError(error.message, code, error.hint);
  }
  return new CliError(error instanceof Error ? error.message : String(error), EXIT.NOT_COMPLETED);
}

/** `error: <message>` and, when there is one, `hint: <hint>`. */
export function formatCliError(error: CliError): string {
  return error.hint ? `error: ${error.message}\nhint: ${error.hint}` : `error: ${error.message}`;
}
