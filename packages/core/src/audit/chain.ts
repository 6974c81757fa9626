import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BatonError } from '../errors.js';
import { canonicalJson } from '../util/canonical.js';
import {
  AUDIT_GENESIS,
  AUDIT_VERSION,
  type AuditEvent,
  type AuditRecord,
  type AuditTail,
  auditEventSchema,
  auditRecordSchema,
} from './types.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of the (already redacted) arguments, so key order never changes it. */
export function argsHashOf(args: unknown): string {
  return sha256Hex(canonicalJson(args));
}

/** The record's own hash: sha256 over the canonical JSON of every field except `hash`. */
export function recordHashOf(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = record;
  return sha256Hex(canonicalJson(rest));
}

/**
 * The record that follows `tail` for `event`. The draft goes through JSON first, so the fields hashed are
 * exactly the fields stored (a Date becomes its string, an undefined array item null) and a verifier that
 * only has the stored text computes the same hash.
 */
export function chainRecord(event: AuditEvent, tail: AuditTail | undefined, now = Date.now()): AuditRecord {
  const checked = auditEventSchema.safeParse(event);
  if (!checked.success) throw invalidEvent(z.prettifyError(checked.error));
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(
      JSON.stringify({
        ...checked.data,
        v: AUDIT_VERSION,
        seq: (tail?.seq ?? 0) + 1,
        at: checked.data.at ?? now,
        prevHash: tail?.hash ?? AUDIT_GENESIS,
      }),
    );
  } catch (error) {
    throw invalidEvent(`its arguments are not JSON (${(error as Error).message})`);
  }
  if (stored.args !== undefined) stored.argsHash = argsHashOf(stored.args);
  stored.hash = recordHashOf(stored as Omit<AuditRecord, 'hash'>);
  // Parsing also puts the fields in the schema's order, the order people read in the file.
  const parsed = auditRecordSchema.safeParse(stored);
  if (!parsed.success) throw invalidEvent(z.prettifyError(parsed.error));
  return parsed.data;
}

function invalidEvent(why: string): BatonError {
  return new BatonError('INPUT_INVALID', `The audit event cannot be recorded: ${why}`);
}
