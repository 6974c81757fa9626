import { randomUUID } from 'node:crypto';
import {
  BatonError,
  type BudgetRemaining,
  budgetRemainingSchema,
  type GuardrailsSpec,
  guardrailsSpecSchema,
  isGuardrailsSpec,
} from '@baton/core';
import { z } from 'zod';
import { decodeUtf8, exceedsBytes } from './bytes.js';
import { exceedsJsonDepth } from './depth.js';
import { explainWith } from './issues.js';
import { boundedPrimitive, quote, truncate } from './quote.js';
import { envelopeJson } from './serialize.js';

export const ENVELOPE_VERSION = 1;

/**
 * Deepest bracket nesting a received message may have, the envelope itself counting as 1. Everything that
 * walks a decoded value (serializers, zod, handlers) recurses, and a few thousand levels overflow the
 * stack; no honest envelope comes near this.
 */
export const MAX_ENVELOPE_DEPTH = 128;

export const ENVELOPE_KINDS = [
  'invoke',
  'result',
  'error',
  'event',
  'cancel',
  'control',
  'heartbeat',
] as const;
export type EnvelopeKind = (typeof ENVELOPE_KINDS)[number];

/**
 * Version 1 of the message every Baton component sends. The payload is typed by `contract`
 * (`name@version`); `correlationId` ties a reply to its invocation, `causationId` names the envelope that
 * caused this one (the parent invocation of a nested handoff), `hop` counts handoffs against storms.
 */
export interface Envelope<P = unknown> {
  v: typeof ENVELOPE_VERSION;
  id: string;
  kind: EnvelopeKind;
  /** `name@version` of the handoff contract, or a `baton.*` system contract for control traffic. */
  contract: string;
  from: string;
  to: string;
  runId: string;
  correlationId: string;
  causationId: string | null;
  /** Epoch ms after which the work is worthless; null when unbounded. */
  deadline: number | null;
  /** What is left of the caller's ledger. */
  budget: BudgetRemaining;
  /** 1 for the first delivery; durable redeliveries count up. */
  attempt: number;
  /** Handoffs between this message and the original request. */
  hop: number;
  /**
   * The tenant the work belongs to (the caller's `RunOptions.tenantId`, else the bus namespace). A worker
   * refuses an invocation for another tenant than its namespace; absent (an older peer), the namespace's.
   */
  tenant?: string;
  /** The user the work is done for (the caller's `RunOptions.userId`), when there is one. */
  user?: string;
  /**
   * The session (conversation) the work belongs to (`RunOptions.sessionId`), so a remote member reads and
   * writes the same memory namespaces as its caller.
   */
  session?: string;
  /**
   * The caller's guardrails as recipes (an invoke only): the worker rebuilds them and runs them on top of
   * its own. In the envelope rather than a header because they are part of what was asked — validated
   * with it, stored with it on the durable queue and redelivered with it — and they are structured data.
   */
  guards?: GuardrailsSpec;
  payload: P;
}

const id = z.string().min(1).max(256);

/** The schema of Envelope v1. The hot path uses the equivalent `readEnvelope`; zod explains rejections. */
export const envelopeSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  id,
  kind: z.enum(ENVELOPE_KINDS),
  contract: z.string().min(1).max(256),
  from: z.string().max(256),
  to: z.string().max(256),
  runId: id,
  correlationId: id,
  causationId: id.nullable(),
  deadline: z.number().int().positive().nullable(),
  budget: budgetRemainingSchema,
  attempt: z.number().int().min(1),
  hop: z.number().int().min(0),
  tenant: id.optional(),
  user: id.optional(),
  session: id.optional(),
  guards: guardrailsSpecSchema.optional(),
  payload: z.unknown().optional(),
});

const KIND_SET: ReadonlySet<string> = new Set(ENVELOPE_KINDS);

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 256;
}

function isNonNegative(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && value >= 0 && value <= Number.MAX_VALUE);
}

function isBudget(value: unknown): value is BudgetRemaining {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const budget = value as Record<string, unknown>;
  if (!isNonNegative(budget.steps) || !isNonNegative(budget.tokens) || !isNonNegative(budget.costUsd)) {
    return false;
  }
  const deadline = budget.deadline;
  return deadline === undefined || (Number.isSafeInteger(deadline) && (deadline as number) > 0);
}

/**
 * The envelope when `value` is a valid v1 envelope, else undefined. Hand-written so a message costs a few
 * property checks instead of a schema walk; `envelopeSchema` accepts exactly the same values.
 */
export function readEnvelope(value: unknown): Envelope | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const e = value as Record<string, unknown>;
  if (e.v !== ENVELOPE_VERSION) return undefined;
  if (!isId(e.id) || !isId(e.runId) || !isId(e.correlationId)) return undefined;
  if (typeof e.kind !== 'string' || !KIND_SET.has(e.kind)) return undefined;
  if (!isId(e.contract) || !isShortString(e.from) || !isShortString(e.to)) return undefined;
  if (e.causationId !== null && !isId(e.causationId)) return undefined;
  const deadline = e.deadline;
  if (deadline !== null && !(Number.isSafeInteger(deadline) && (deadline as number) > 0)) return undefined;
  if (!isBudget(e.budget)) return undefined;
  if (!(Number.isSafeInteger(e.attempt) && (e.attempt as number) >= 1)) return undefined;
  if (!(Number.isSafeInteger(e.hop) && (e.hop as number) >= 0)) return undefined;
  // Optional since v1 went out: older peers omit them, and then the namespace stands for the tenant.
  if (e.tenant !== undefined && !isId(e.tenant)) return undefined;
  if (e.user !== undefined && !isId(e.user)) return undefined;
  if (e.session !== undefined && !isId(e.session)) return undefined;
  // Only guarded invocations carry recipes; they are bounded in count, depth and size (see portable.ts).
  if (e.guards !== undefined && !isGuardrailsSpec(e.guards)) return undefined;
  return value as unknown as Envelope;
}

/**
 * A short, human-readable list of what is wrong with a value that is not a valid envelope. zod reads only
 * the envelope's own fields (the payload is `unknown`), so no nesting inside them makes it recurse; a
 * throw of any kind still becomes an explanation, never an exception.
 */
export function explainEnvelope(value: unknown): string {
  try {
    return truncate(explainWith(envelopeSchema, value), EXPLANATION_LIMIT);
  } catch (error) {
    return `the value cannot be checked (${quote(error instanceof Error ? error.message : error)})`;
  }
}

/** Longest explanation quoted in an error message. */
const EXPLANATION_LIMIT = 1_024;

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; error: BatonError; raw: unknown };

export interface DecodeOptions {
  /** Largest message accepted, in UTF-8 bytes; checked before anything else (default: no limit here). */
  maxBytes?: number;
  /** Deepest nesting accepted (default MAX_ENVELOPE_DEPTH). */
  maxDepth?: number;
}

function invalid(reason: string, message: string, details: Record<string, unknown> = {}): DecodeResult {
  return {
    ok: false,
    raw: undefined,
    error: new BatonError('ENVELOPE_INVALID', message, { details: { reason, ...details } }),
  };
}

/**
 * Parses and validates a message from the wire (its bytes or its text). Size and nesting are checked on
 * the text before JSON.parse builds anything, so nothing after it can overflow the stack; every failure
 * is a typed error (PAYLOAD_TOO_LARGE over `maxBytes`, else ENVELOPE_INVALID with `details.reason`),
 * never a throw.
 */
export function decodeEnvelope(input: Uint8Array | string, options?: DecodeOptions): DecodeResult {
  const maxBytes = options?.maxBytes;
  if (maxBytes !== undefined && exceedsBytes(input, maxBytes)) {
    const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
    return {
      ok: false,
      raw: undefined,
      error: new BatonError(
        'PAYLOAD_TOO_LARGE',
        `The message is ${size} bytes; at most ${maxBytes} accepted`,
        { details: { size, max: maxBytes } },
      ),
    };
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : decodeUtf8(input);
  } catch (error) {
    return invalid('utf8', `The message is not text: ${quote((error as Error)?.message)}`);
  }
  const maxDepth = options?.maxDepth ?? MAX_ENVELOPE_DEPTH;
  if (exceedsJsonDepth(text, maxDepth)) {
    return invalid('depth', `The message nests deeper than ${maxDepth} levels`, { max: maxDepth });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // V8 quotes a piece of the input in its message: cut, like everything else quoted from outside.
    return invalid('json', `The message is not JSON: ${truncate(String((error as Error)?.message), 200)}`);
  }
  const envelope = readEnvelope(raw);
  if (envelope) return { ok: true, envelope };
  const version = typeof raw === 'object' && raw !== null ? (raw as { v?: unknown }).v : undefined;
  if (version !== undefined && version !== ENVELOPE_VERSION) {
    return {
      ok: false,
      raw,
      error: new BatonError(
        'ENVELOPE_INVALID',
        `Envelope version ${quote(version)} is not supported (this side speaks v${ENVELOPE_VERSION})`,
        {
          details: { reason: 'version', version: boundedPrimitive(version), supported: [ENVELOPE_VERSION] },
        },
      ),
    };
  }
  return {
    ok: false,
    raw,
    error: new BatonError('ENVELOPE_INVALID', `Invalid envelope: ${explainEnvelope(raw)}`, {
      details: { reason: 'schema' },
    }),
  };
}

/**
 * Validates and serializes an envelope to its JSON text (publish it as is: the bus sends it as UTF-8).
 * An invalid envelope is a bug on this side, so it throws.
 */
export function encodeEnvelope(envelope: Envelope): string {
  if (!readEnvelope(envelope)) {
    throw new BatonError(
      'ENVELOPE_INVALID',
      `Refusing to send an invalid envelope: ${explainEnvelope(envelope)}`,
    );
  }
  return envelopeJson(envelope);
}

/** Splits `name@version`; undefined when malformed. */
export function parseContractId(contract: string): { name: string; version: number } | undefined {
  const at = contract.lastIndexOf('@');
  if (at <= 0) return undefined;
  const version = Number(contract.slice(at + 1));
  if (!Number.isInteger(version) || version < 1) return undefined;
  return { name: contract.slice(0, at), version };
}

/** System contracts for control traffic (not user handoffs). */
export const SYSTEM_CONTRACTS = {
  event: 'baton.event@1',
  cancel: 'baton.cancel@1',
  control: 'baton.control@1',
  registry: 'baton.registry@1',
  error: 'baton.error@1',
} as const;

/**
 * An envelope for control traffic (kill switch, registry queries, heartbeats): no deadline, no budget,
 * its own run. `replyTo` makes it the answer to another message.
 */
export function systemEnvelope<P>(fields: {
  kind: EnvelopeKind;
  contract: (typeof SYSTEM_CONTRACTS)[keyof typeof SYSTEM_CONTRACTS];
  from: string;
  to: string;
  payload: P;
  replyTo?: string;
}): Envelope<P> {
  const id = randomUUID();
  return {
    v: ENVELOPE_VERSION,
    id,
    kind: fields.kind,
    contract: fields.contract,
    from: fields.from,
    to: fields.to,
    runId: id,
    correlationId: fields.replyTo ?? id,
    causationId: fields.replyTo ?? null,
    deadline: null,
    budget: {},
    attempt: 1,
    hop: 0,
    payload: fields.payload,
  };
}
