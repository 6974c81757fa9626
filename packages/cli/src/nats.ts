import { NatsBus } from '@baton/bus';
import { BatonError } from '@baton/core';
import { CliError, EXIT } from './errors.js';

/**
 * Connects to NATS or fails at once with a clear message: an unreachable server is exit code 3,
 * never a hang. After the first connection the client reconnects on its own.
 */
export async function connectNats(url: string, clientName: string): Promise<NatsBus> {
  try {
    return await NatsBus.connect({
      servers: url,
      name: clientName,
      connectTimeoutMs: 3_000,
    });
  } catch (error) {
    const message = error instanceof BatonError ? error.message : String(error);
    const reason = message.replace(/^Cannot connect to NATS at \S+: /, '');
    throw new CliError(
      `Cannot reach NATS at ${url} (${reason})`,
      EXIT.UNAVAILABLE,
      'Start a server (for example `nats-server -js`) or pass the right --nats URL',
    );
  }
}
