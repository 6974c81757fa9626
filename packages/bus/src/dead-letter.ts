import { type BatonError, type BatonErrorJSON, batonErrorJsonSchema } from '@baton/core';
import { z } from 'zod';
import { decodeUtf8, encodeUtf8 } from './bytes.js';
import { resolveNamespace, subjects } from './subjects.js';
import type { Bus, BusHeaders, BusSubscription } from './transport/types.js';

/** How much of a rejected message a dead letter keeps. */
export const DEAD_LETTER_DATA_LIMIT = 16 * 1024;

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
  /** Durable mode: how many times the message was delivered. */
  deliveries?: number;
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
  deliveries: z.number().int().optional(),
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
    error: parts.error.toJSON(),
    size,
    data: text,
    truncated,
  };
  if (parts.envelope) {
    letter.envelopeId = parts.envelope.id;
    letter.runId = parts.envelope.runId;
    letter.contract = parts.envelope.contract;
  }
  if (parts.headers) letter.headers = parts.headers;
  if (parts.deliveries !== undefined) letter.deliveries = parts.deliveries;
  return letter;
}

/** Publishes a dead letter; a bus that cannot take it reports to stderr rather than losing it silently. */
export function publishDeadLetter(bus: Bus, letter: DeadLetter): void {
  const subject = subjects.deadLetter(letter.namespace, letter.agent);
  try {
    bus.publish(subject, JSON.stringify(letter));
  } catch (error) {
    console.error(`[baton] could not publish a dead letter on ${subject}:`, error, letter);
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
    try {
      const parsed = deadLetterSchema.safeParse(JSON.parse(message.string()));
      if (parsed.success) handler(parsed.data as DeadLetter);
    } catch {
      // Not a dead letter: someone else publishes on this subject.
    }
  });
}
