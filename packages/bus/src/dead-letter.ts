import { type BatonError, type BatonErrorJSON, batonErrorJsonSchema } from '@baton/core';
import { z } from 'zod';
import { decodeUtf8, encodeUtf8, exceedsBytes } from './bytes.js';
import { exceedsJsonDepth } from './depth.js';
import { MAX_ENVELOPE_DEPTH } from './envelope.js';
import { countDeadLetter } from './metrics.js';
import { quote, truncate } from './quote.js';
import { resolveNamespace, subjects } from './subjects.js';
import type { Bus, BusHeaders, BusSubscription } from './transport/types.js';

/** How much of a rejected message a dead letter keeps. */
export const DEAD_LETTER_DATA_LIMIT = 16 * 1024;
/**
 * How many of a rejected message's headers a dead letter keeps. Headers are the sender's to choose, as
 * many and as long as the bus carries, so a dead letter keeps a bounded sample and counts the rest.
 */
export const DEAD_LETTER_HEADER_LIMIT = 32;
const HEADER_NAME_LIMIT = 128;
const HEADER_VALUE_LIMIT = 1_024;
/** Bounds of the error a dead letter carries: its message and details can quote what was rejected. */
const ERROR_MESSAGE_LIMIT = 2_048;
const ERROR_HINT_LIMIT = 512;
const ERROR_DETAILS_LIMIT = 4_096;
const ERROR_CAUSE_DEPTH = 3;

/** A message a worker could not accept, with the reason; published on `baton.<ns>.dlq.<agent>`. */
export interface DeadLetter {
  v: 1;
  at: number;
  namespace: string;
  agent: string;
  instance: string;
  /** Subject the message arrived on. */
  subject: string;
  error: BatonErrorJSON;
  envelopeId?: string;
  runId?: string;
  contract?: string;
  /** Size of the original message in bytes. */
  size: number;
  /** The original message as UTF-8 text, cut at DEAD_LETTER_DATA_LIMIT bytes. */
  data: string;
  truncated: boolean;
  headers?: BusHeaders;
  /** Headers left out (over DEAD_LETTER_HEADER_LIMIT, or names too long to keep). */
  headersDropped?: number;
  /** Durable mode: how many times the message was delivered. */
  deliveries?: number;
  /**
   * Dead letters of the same worker's control subjects that a flood made it skip since the one before
   * this (they are rate-limited; the count says what was not published).
   */
  suppressed?: number;
}

export const deadLetterSchema = z.object({
  v: z.literal(1),
  at: z.number(),
  namespace: z.string(),
  agent: z.string(),
  instance: z.string(),
  subject: z.string(),
  error: batonErrorJsonSchema,
  envelopeId: z.string().optional(),
  runId: z.string().optional(),
  contract: z.string().optional(),
  size: z.number().int().nonnegative(),
  data: z.string(),
  truncated: z.boolean(),
  headers: z.record(z.string(), z.string()).optional(),
  headersDropped: z.number().int().nonnegative().optional(),
  deliveries: z.number().int().optional(),
  suppressed: z.number().int().nonnegative().optional(),
});

export interface DeadLetterParts {
  namespace: string;
  agent: string;
  instance: string;
  subject: string;
  error: BatonError;
  /** The rejected message. */
  message: { size: number; string(): string };
  headers: BusHeaders | undefined;
  envelope?: { id: string; runId: string; contract: string } | undefined;
  deliveries?: number;
  suppressed?: number;
}

export function makeDeadLetter(parts: DeadLetterParts): DeadLetter {
  const size = parts.message.size;
  const truncated = size > DEAD_LETTER_DATA_LIMIT;
  let text = parts.message.string();
  if (truncated) text = decodeUtf8(encodeUtf8(text).subarray(0, DEAD_LETTER_DATA_LIMIT));
  const letter: DeadLetter = {
    v: 1,
    at: Date.now(),
    namespace: parts.namespace,
    agent: parts.agent,
    instance: parts.instance,
    subject: parts.subject,
    error: boundErrorJson(parts.error.toJSON(), 0),
    size,
    data: text,
    truncated,
  };
  if (parts.envelope) {
    letter.envelopeId = parts.envelope.id;
    letter.runId = parts.envelope.runId;
    letter.contract = parts.envelope.contract;
  }
  if (parts.headers) {
    const { headers, dropped } = boundHeaders(parts.headers);
    letter.headers = headers;
    if (dropped > 0) letter.headersDropped = dropped;
  }
  if (parts.deliveries !== undefined) letter.deliveries = parts.deliveries;
  if (parts.suppressed !== undefined && parts.suppressed > 0) letter.suppressed = parts.suppressed;
  return letter;
}

function boundHeaders(all: BusHeaders): { headers: BusHeaders; dropped: number } {
  const headers: BusHeaders = {};
  let kept = 0;
  let dropped = 0;
  for (const name in all) {
    if (kept >= DEAD_LETTER_HEADER_LIMIT || name.length > HEADER_NAME_LIMIT) {
      dropped++;
      continue;
    }
    headers[name] = truncate(String(all[name]), HEADER_VALUE_LIMIT);
    kept++;
  }
  return { headers, dropped };
}

/** The error as a dead letter keeps it: message, hint and details cut, the cause chain shortened. */
function boundErrorJson(json: BatonErrorJSON, depth: number): BatonErrorJSON {
  const bounded: BatonErrorJSON = { ...json, message: truncate(json.message, ERROR_MESSAGE_LIMIT) };
  if (json.hint !== undefined) bounded.hint = truncate(json.hint, ERROR_HINT_LIMIT);
  if (json.details !== undefined) {
    const details = boundDetails(json.details);
    if (details === undefined) delete bounded.details;
    else bounded.details = details;
  }
  const cause = json.cause;
  if (cause !== undefined) {
    if (depth + 1 >= ERROR_CAUSE_DEPTH) delete bounded.cause;
    else if ('code' in cause) bounded.cause = boundErrorJson(cause, depth + 1);
    else bounded.cause = { ...cause, message: truncate(String(cause.message), ERROR_MESSAGE_LIMIT) };
  }
  return bounded;
}

/** Details as they are when small; a cut JSON preview when large; a note when not serializable at all. */
function boundDetails(details: Record<string, unknown>): Record<string, unknown> | undefined {
  let json: string | undefined;
  try {
    // A RangeError from a deep or cyclic value is caught like any other.
    json = JSON.stringify(details);
  } catch (error) {
    return { unserializable: quote(error instanceof Error ? error.message : error) };
  }
  if (json === undefined) return undefined;
  if (json.length <= ERROR_DETAILS_LIMIT) return details;
  return { truncated: true, size: json.length, preview: json.slice(0, ERROR_DETAILS_LIMIT / 4) };
}

/**
 * The JSON of a dead letter, no larger than `maxBytes`: the rejected data is cut further when escaping
 * made it grow (control characters and invalid UTF-8 can triple it), then headers and details go. A dead
 * letter that the bus refuses is a message lost, so it must always fit.
 */
export function serializeDeadLetter(letter: DeadLetter, maxBytes: number): string {
  let json = JSON.stringify(letter);
  if (!exceedsBytes(json, maxBytes)) return json;
  let current: DeadLetter = { ...letter, truncated: true };
  for (let attempt = 0; attempt < 4 && current.data.length > 0; attempt++) {
    const excess = Buffer.byteLength(json, 'utf8') - maxBytes;
    const dataBytes = Buffer.byteLength(JSON.stringify(current.data), 'utf8');
    // Cut in proportion to what a unit of this data costs once escaped; uneven data takes another turn.
    const cut = Math.ceil((excess * current.data.length) / dataBytes) + 16;
    current = { ...current, data: cutText(current.data, current.data.length - cut) };
    json = JSON.stringify(current);
    if (!exceedsBytes(json, maxBytes)) return json;
  }
  const { headers: _headers, ...withoutHeaders } = current;
  const error: BatonErrorJSON = { ...current.error, message: truncate(current.error.message, 256) };
  delete error.details;
  delete error.cause;
  delete error.hint;
  return JSON.stringify({ ...withoutHeaders, data: '', truncated: true, error });
}

/** The first `length` units of `text`, never ending on half of a surrogate pair (escaped, it grows). */
function cutText(text: string, length: number): string {
  if (length <= 0) return '';
  const last = text.charCodeAt(length - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}

/** Publishes a dead letter; a bus that cannot take it reports to stderr rather than losing it silently. */
export function publishDeadLetter(bus: Bus, letter: DeadLetter): void {
  const subject = subjects.deadLetter(letter.namespace, letter.agent);
  countDeadLetter(letter.agent, letter.error.code);
  try {
    bus.publish(subject, serializeDeadLetter(letter, bus.maxPayload));
  } catch (error) {
    const { data: _data, ...rest } = letter;
    console.error(`[baton] could not publish a dead letter on ${subject}:`, error, rest);
  }
}

export interface WatchDeadLettersOptions {
  namespace?: string;
  /** Only this agent's dead letters (default: every agent of the namespace). */
  agent?: string;
}

/** Calls `handler` for every dead letter published from now on. */
export function watchDeadLetters(
  bus: Bus,
  options: WatchDeadLettersOptions,
  handler: (letter: DeadLetter) => void,
): BusSubscription {
  const namespace = resolveNamespace('watchDeadLetters', options.namespace);
  const subject =
    options.agent === undefined
      ? subjects.allDeadLetters(namespace)
      : subjects.deadLetter(namespace, options.agent);
  return bus.subscribe(subject, (message) => {
    const letter = readDeadLetter(message.string());
    // Outside any catch: a handler that throws is reported by the bus, not mistaken for a bad message.
    if (letter) handler(letter);
  });
}

/** A dead letter read off the wire; undefined for anything else (checked for depth before parsing). */
function readDeadLetter(text: string): DeadLetter | undefined {
  // Someone else may publish on these subjects: a bad message is skipped, it must not break the watch.
  if (exceedsJsonDepth(text, MAX_ENVELOPE_DEPTH)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = deadLetterSchema.safeParse(raw);
  return parsed.success ? (parsed.data as DeadLetter) : undefined;
}
