import { randomBytes } from 'node:crypto';

/** 96 random bits per process: ids from different processes never collide. */
const prefix = randomBytes(12).toString('base64url');
let counter = 0;

/**
 * A unique id for envelopes and runs: a per-process random prefix and a counter. Envelope ids are
 * idempotency keys in durable mode, so they must be unique across processes; they need not be UUIDs,
 * and making one costs a string concatenation instead of a call into crypto.
 */
export function nextId(): string {
  counter++;
  return `${prefix}${counter.toString(36)}`;
}
