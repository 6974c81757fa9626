import { CliError, EXIT } from './errors.js';

/** A commander argument parser for `flag`: a positive integer, or a usage error naming the flag. */
export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) {
      throw new CliError(`${flag} must be a positive integer (got "${value}")`, EXIT.USAGE);
    }
    return parsed;
  };
}

/** `--timeout 90` (seconds) as milliseconds. */
export function seconds(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new CliError(`${flag} must be a positive number of seconds (got "${value}")`, EXIT.USAGE);
    }
    return Math.round(parsed * 1_000);
  };
}

/** A namespace (tenant) token as the bus accepts it. */
export function namespaceToken(value: string): string {
  if (!/^[a-zA-Z0-9_-]{1,128}$/.test(value)) {
    throw new CliError(`--namespace must be 1–128 letters, digits, "_" or "-" (got "${value}")`, EXIT.USAGE);
  }
  return value;
}

/** `--port`: 0 (the OS picks a free port) to 65535. */
export function portNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new CliError(`--port must be an integer from 0 to 65535 (got "${value}")`, EXIT.USAGE);
  }
  return parsed;
}
