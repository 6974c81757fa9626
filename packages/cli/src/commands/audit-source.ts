import { existsSync } from 'node:fs';
import { natsAuditSink } from '@baton/bus';
import { BatonError, fileAuditSink } from '@baton/core';
import { CliError, EXIT } from '../errors.js';
import { connectNats } from '../nats.js';
import { envNatsUrl, type NatsAuthFlags } from '../nats-flags.js';

export interface AuditSourceFlags extends NatsAuthFlags {
  nats?: string;
  namespace?: string;
  stream?: string;
}

/** A NATS URL names the stream of a server; anything else is a path to a JSON-lines file. */
export function isNatsUrl(source: string): boolean {
  return /^(nats|tls|wss?):\/\//.test(source);
}

/**
 * Every stored entry of an audit log, as stored (parsed, not validated: the verifier and `show` judge each
 * one), and a name for it. The stream is read, never created: a wrong namespace is an error, not a new log.
 */
export async function readAuditSource(
  source: string | undefined,
  flags: AuditSourceFlags,
): Promise<{ raw: unknown[]; name: string }> {
  // NATS_URL stands in for --nats only when no source is given: a file argument always means the file.
  const url = flags.nats ?? (source !== undefined ? (isNatsUrl(source) ? source : undefined) : envNatsUrl());
  if (url !== undefined) {
    if (source !== undefined && !isNatsUrl(source)) {
      throw new CliError(`Give a file or --nats, not both (got "${source}" and --nats ${url})`, EXIT.USAGE);
    }
    const bus = await connectNats(url, 'baton-audit', flags);
    try {
      const sink = natsAuditSink(bus, { namespace: flags.namespace, stream: flags.stream, create: false });
      return {
        raw: await sink.readRaw(),
        name: `${url} ${flags.stream ?? `namespace ${flags.namespace ?? 'default'}`}`,
      };
    } catch (error) {
      if (BatonError.is(error, 'AUDIT_UNAVAILABLE')) {
        throw new CliError(error.message, EXIT.UNAVAILABLE, error.hint);
      }
      throw error;
    } finally {
      await bus.close();
    }
  }
  if (source === undefined) {
    throw new CliError(
      'Which audit log? Give a file, or --nats <url> (or NATS_URL) for the stream',
      EXIT.USAGE,
    );
  }
  if (!existsSync(source)) throw new CliError(`No audit log at ${source}`, EXIT.USAGE);
  return { raw: await fileAuditSink({ path: source }).readRaw(), name: source };
}
