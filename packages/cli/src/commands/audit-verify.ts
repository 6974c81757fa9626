import { readFileSync } from 'node:fs';
import { type AuditKey, auditPublicKey, splitAuditEntries, verifyAudit } from '@baton/core';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { type AuditSourceFlags, readAuditSource } from './audit-source.js';

export interface AuditVerifyFlags extends AuditSourceFlags {
  publicKey?: string;
  latestHead?: string;
  minRecords?: number;
  requireSigned?: boolean;
  unsigned?: boolean;
  json?: boolean;
}

export const PUBLIC_KEY_ENV = 'BATON_AUDIT_PUBLIC_KEY';

/**
 * `baton audit verify <file|nats://...>`: checks the chain and the signed heads and prints either
 * `ok: N records, last signed head at seq S` or the first broken link, exiting VERIFY_FAILED on the latter.
 */
export async function auditVerifyCommand(
  source: string | undefined,
  flags: AuditVerifyFlags,
  io: Io,
): Promise<number> {
  const publicKey = flags.unsigned ? undefined : loadPublicKey(flags.publicKey);
  const latestHead = flags.latestHead === undefined ? undefined : loadHead(flags.latestHead);
  if (flags.unsigned && (latestHead !== undefined || flags.requireSigned)) {
    throw new CliError('--latest-head and --require-signed need the public key, not --unsigned', EXIT.USAGE);
  }
  const { raw } = await readAuditSource(source, flags);
  const { records, heads } = splitAuditEntries(raw);
  const verdict = verifyAudit(records, heads, {
    ...(publicKey ? { publicKey } : {}),
    ...(latestHead !== undefined ? { latestHead } : {}),
    ...(flags.minRecords !== undefined ? { minRecords: flags.minRecords } : {}),
    ...(flags.requireSigned ? { requireSigned: true } : {}),
  });
  if (flags.json) {
    io.out(
      JSON.stringify(
        verdict.ok
          ? {
              ok: true,
              records: verdict.records.length,
              signedThrough: verdict.signedThrough,
              signatures: !!publicKey,
            }
          : verdict,
      ),
    );
  } else if (verdict.ok) {
    const count = verdict.records.length;
    const signed = !publicKey
      ? ' (chain only: signed heads not checked)'
      : verdict.signedThrough === 0
        ? ', no signed head'
        : `, last signed head at seq ${verdict.signedThrough}`;
    const unsigned =
      publicKey && verdict.signedThrough > 0 && verdict.signedThrough < count
        ? ` (${count - verdict.signedThrough} record${count - verdict.signedThrough === 1 ? '' : 's'} after it not signed yet)`
        : '';
    io.out(`ok: ${count} record${count === 1 ? '' : 's'}${signed}${unsigned}`);
  } else {
    io.out(`broken at seq ${verdict.brokenAt}: ${verdict.reason}`);
  }
  return verdict.ok ? EXIT.OK : EXIT.VERIFY_FAILED;
}

/** The PEM of `--public-key <file>`, else of BATON_AUDIT_PUBLIC_KEY (the PEM itself or a file holding it). */
function loadPublicKey(path: string | undefined): AuditKey {
  const fromEnv = process.env[PUBLIC_KEY_ENV]?.trim();
  const where = path ?? (fromEnv && !fromEnv.startsWith('-----BEGIN') ? fromEnv : undefined);
  let pem: string;
  if (where !== undefined) {
    try {
      pem = readFileSync(where, 'utf8');
    } catch (error) {
      throw new CliError(`Cannot read the public key ${where}: ${(error as Error).message}`, EXIT.USAGE);
    }
  } else if (fromEnv) {
    pem = fromEnv;
  } else {
    throw new CliError(
      'verify needs the public key that checks the signed heads',
      EXIT.USAGE,
      `Pass --public-key <pem file> or set ${PUBLIC_KEY_ENV}; --unsigned checks the hash chain alone`,
    );
  }
  // Parsed here so a bad key is a usage error before anything is read (the message never shows the key).
  return auditPublicKey(pem);
}

function loadHead(path: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`Cannot read the head in ${path}: ${(error as Error).message}`, EXIT.USAGE);
  }
  // A `{"head": ...}` line copied from a log is accepted as it is.
  return typeof json === 'object' && json !== null && 'head' in json
    ? (json as { head: unknown }).head
    : json;
}
