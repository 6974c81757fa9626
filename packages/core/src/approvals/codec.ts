import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BatonError } from '../errors.js';
import { checkRunId } from '../journal/codec.js';
import { type ApprovalRecord, approvalRecordSchema } from './types.js';

/** Longer encoded call ids are hashed so a key stays a short file name (255 bytes at most on most file systems). */
const MAX_ENCODED_CALL_ID = 128;

/**
 * The key of one call's record: `<runId>.<call id>`, usable as a file name and as a NATS KV key (which
 * allows only `[-/_=.a-zA-Z0-9]`). Call ids come from model providers and may hold anything, so they are
 * base64url-encoded; a very long one is replaced by `=` + its SHA-256 (`=` never occurs in base64url, so
 * the two forms cannot collide). Readers check the ids inside the record, never trust the key alone.
 */
export function approvalKey(runId: string, toolCallId: string): string {
  checkRunId('approvals', runId);
  if (typeof toolCallId !== 'string' || toolCallId.length === 0) {
    throw new BatonError('INPUT_INVALID', 'approvals: a tool call id must be a non-empty string');
  }
  const encoded = Buffer.from(toolCallId, 'utf8').toString('base64url');
  const callKey =
    encoded.length <= MAX_ENCODED_CALL_ID
      ? encoded
      : `=${createHash('sha256').update(toolCallId, 'utf8').digest('base64url')}`;
  return `${runId}.${callKey}`;
}

/** The stored form of a record, checked against the schema so nothing unreadable is ever written. */
export function encodeApprovalRecord(record: ApprovalRecord): string {
  const text = JSON.stringify(record);
  const parsed = approvalRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new BatonError(
      'INPUT_INVALID',
      `Approval of call ${record.toolCallId} (run ${record.runId}) cannot be stored: ${z.prettifyError(parsed.error)}`,
    );
  }
  return text;
}

/**
 * A stored record, validated; `where` names it for a person (a file, a KV key). When `expect` is given
 * the record must be that call's, so a file copied under another name is refused.
 */
export function decodeApprovalRecord(
  text: string,
  where: string,
  expect?: { runId: string; toolCallId: string },
): ApprovalRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidApproval(where, `not JSON (${(error as Error).message})`);
  }
  const parsed = approvalRecordSchema.safeParse(json);
  if (!parsed.success) throw invalidApproval(where, z.prettifyError(parsed.error));
  const record = parsed.data as ApprovalRecord;
  if (expect && (record.runId !== expect.runId || record.toolCallId !== expect.toolCallId)) {
    throw invalidApproval(where, `it holds call ${record.toolCallId} of run ${record.runId}`);
  }
  return record;
}

function invalidApproval(where: string, why: string): BatonError {
  return new BatonError('STATE_INVALID', `Approval record ${where} is invalid: ${why}`, {
    details: { where },
    hint: 'The record was corrupted or edited by hand; restore it or request the approval again',
  });
}
