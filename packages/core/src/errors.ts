import { z } from 'zod';

export type ErrorCategory = 'user' | 'provider' | 'limit' | 'system';

interface CodeSpec {
  readonly category: ErrorCategory;
  readonly retryable: boolean;
}

/**
 * Every stable error code, with its category and whether retrying the same operation can succeed.
 * Codes are part of the public API: they cross the bus, land in traces and are matched by users.
 */
export const ERROR_CODES = {
  // Programmer and caller mistakes.
  CONFIG_INVALID: { category: 'user', retryable: false },
  INPUT_INVALID: { category: 'user', retryable: false },
  OUTPUT_INVALID: { category: 'user', retryable: false },
  REQUIRED_TOOL_MISSING: { category: 'user', retryable: false },
  TOOL_UNKNOWN: { category: 'user', retryable: false },
  TOOL_INPUT_INVALID: { category: 'user', retryable: false },
  TOOL_OUTPUT_INVALID: { category: 'system', retryable: false },
  TOOL_PERMISSION_DENIED: { category: 'user', retryable: false },
  TOOL_EMPTY_RESULT: { category: 'user', retryable: false },
  TOOL_FAILED: { category: 'system', retryable: false },
  APPROVAL_DENIED: { category: 'user', retryable: false },
  APPROVAL_REQUIRED: { category: 'user', retryable: false },
  STATE_INVALID: { category: 'user', retryable: false },
  /** A paused RunState was already resumed once; resuming it again would repeat its side effects. */
  STATE_CONSUMED: { category: 'user', retryable: false },
  /** The approval was already decided (approvals are decided exactly once). */
  APPROVAL_DECIDED: { category: 'user', retryable: false },
  APPROVAL_UNKNOWN: { category: 'user', retryable: false },
  /** No journaled run has this id (nothing to resume). */
  RUN_UNKNOWN: { category: 'user', retryable: false },
  /** A journal was written by another configuration; resuming it needs `migrate: true`. */
  JOURNAL_CONFIG_MISMATCH: { category: 'user', retryable: false },
  HANDOFF_INVALID: { category: 'user', retryable: false },
  CONTRACT_UNKNOWN: { category: 'user', retryable: false },
  CONTRACT_VERSION: { category: 'user', retryable: false },
  AGENT_UNKNOWN: { category: 'user', retryable: false },
  /** An invocation names a tenant other than the one its worker serves (the bus namespace). */
  TENANT_MISMATCH: { category: 'user', retryable: false },
  DELEGATION_INVALID: { category: 'user', retryable: false },
  GUARDRAIL_TRIPPED: { category: 'user', retryable: false },
  /** A guard's recipe names a kind this process has not registered (`portableGuard`). */
  GUARD_UNKNOWN: { category: 'user', retryable: false },
  /** A team guard cannot be rebuilt in a remote member's process: the handoff is refused, not unguarded. */
  GUARD_NOT_PORTABLE: { category: 'user', retryable: false },
  MEMORY_OPTED_OUT: { category: 'user', retryable: false },
  /** A cost limit is set but a model's price is unknown: the limit could never be enforced. */
  PRICE_UNKNOWN: { category: 'user', retryable: false },
  /** The answer cites sources no tool result of the run contains (an agent's `grounding` check). */
  OUTPUT_UNGROUNDED: { category: 'user', retryable: false },
  // Model providers.
  PROVIDER_AUTH: { category: 'provider', retryable: false },
  PROVIDER_RATE_LIMIT: { category: 'provider', retryable: true },
  PROVIDER_OVERLOADED: { category: 'provider', retryable: true },
  PROVIDER_SERVER: { category: 'provider', retryable: true },
  PROVIDER_CONTEXT_LENGTH: { category: 'provider', retryable: false },
  PROVIDER_BAD_REQUEST: { category: 'provider', retryable: false },
  PROVIDER_NOT_FOUND: { category: 'provider', retryable: false },
  PROVIDER_NETWORK: { category: 'provider', retryable: true },
  PROVIDER_TIMEOUT: { category: 'provider', retryable: true },
  PROVIDER_RESPONSE_INVALID: { category: 'provider', retryable: true },
  PROVIDER_UNAVAILABLE: { category: 'provider', retryable: false },
  MODEL_REFUSED: { category: 'provider', retryable: false },
  MODEL_NOT_CONFIGURED: { category: 'user', retryable: false },
  /** An optional package a feature needs is not installed (`details.package`, `details.install`). */
  DEPENDENCY_MISSING: { category: 'user', retryable: false },
  // Limits: a run or a team reached a bound it was given.
  MAX_STEPS: { category: 'limit', retryable: false },
  TIMEOUT: { category: 'limit', retryable: false },
  DEADLINE_EXCEEDED: { category: 'limit', retryable: false },
  BUDGET_TOKENS: { category: 'limit', retryable: false },
  BUDGET_COST: { category: 'limit', retryable: false },
  BUDGET_STEPS: { category: 'limit', retryable: false },
  REPEATED_ACTION: { category: 'limit', retryable: false },
  NO_PROGRESS: { category: 'limit', retryable: false },
  MAX_ROUNDS: { category: 'limit', retryable: false },
  /** The planner gave no valid plan within its attempts (each refused plan was sent back with its violations). */
  PLAN_INVALID: { category: 'limit', retryable: false },
  /** A plan step failed and the re-plans ran out (`maxReplans`): the run ends with what the steps found. */
  PLAN_FAILED: { category: 'limit', retryable: false },
  TOOL_TIMEOUT: { category: 'limit', retryable: true },
  TOOL_RATE_LIMITED: { category: 'limit', retryable: true },
  PAYLOAD_TOO_LARGE: { category: 'limit', retryable: false },
  HOP_LIMIT: { category: 'limit', retryable: false },
  // The system itself: transport, cancellation, crashes.
  ABORTED: { category: 'system', retryable: false },
  KILLED: { category: 'system', retryable: false },
  NO_RESPONDERS: { category: 'system', retryable: true },
  ENVELOPE_INVALID: { category: 'system', retryable: false },
  BUS_CLOSED: { category: 'system', retryable: false },
  BUS_DISCONNECTED: { category: 'system', retryable: true },
  /**
   * The NATS server refused a publish or subscription for this user (its permissions): e.g. a tenant user
   * reaching another tenant's subjects, a worker publishing kill, or a client without its inbox prefix.
   */
  BUS_PERMISSION_DENIED: { category: 'user', retryable: false },
  /** The NATS server refused the login (no user, or a wrong password): trying again cannot help. */
  BUS_AUTH_FAILED: { category: 'user', retryable: false },
  WORKER_CRASHED: { category: 'system', retryable: true },
  DUPLICATE: { category: 'system', retryable: false },
  /** Another writer took the run's journal over (a resume elsewhere): this one must stop. */
  JOURNAL_CONFLICT: { category: 'system', retryable: false },
  /** The journal could not be written or read (its store is down): nothing is executed unrecorded. */
  JOURNAL_UNAVAILABLE: { category: 'system', retryable: true },
  /** A journal record could not be read back (corrupt or edited). */
  JOURNAL_INVALID: { category: 'system', retryable: false },
  /** Another writer appended to the audit log first: the record is chained again after it. */
  AUDIT_CONFLICT: { category: 'system', retryable: true },
  /** A memory store's backend (NATS KV, PostgreSQL) could not be reached or refused the operation. */
  MEMORY_UNAVAILABLE: { category: 'system', retryable: true },
  /** A memory store's stored data could not be read back (a corrupt or hand-edited file): nothing is guessed. */
  MEMORY_INVALID: { category: 'system', retryable: false },
  /** The audit log could not be written or read (its store is down): nothing runs unaudited. */
  AUDIT_UNAVAILABLE: { category: 'system', retryable: true },
  /** A stored audit entry could not be read back (corrupt or edited); `baton audit verify` says where. */
  AUDIT_INVALID: { category: 'system', retryable: false },
  /** An MCP server could not be reached or started (`@baton/mcp`); a later call reconnects. */
  MCP_UNAVAILABLE: { category: 'system', retryable: true },
  /** The connection to an MCP server was lost while a call was in flight: it may or may not have run. */
  MCP_DISCONNECTED: { category: 'system', retryable: true },
  /** An MCP server answered a request with a protocol error (unknown tool, invalid params, internal error). */
  MCP_ERROR: { category: 'system', retryable: false },
  /** An A2A agent could not be reached (connection refused, card not found, timed out) (`@baton/a2a`). */
  A2A_UNAVAILABLE: { category: 'system', retryable: true },
  /** An A2A agent answered with a protocol error or a task that failed, was rejected or canceled. */
  A2A_ERROR: { category: 'system', retryable: false },
  // The HTTP gateway (@baton/serve): what its callers get back, each with its own HTTP status.
  /** No API key, or one the gateway does not know (HTTP 401). */
  UNAUTHORIZED: { category: 'user', retryable: false },
  /** The API key spent its request allowance; `details.retryAfterMs` says when to try again (HTTP 429). */
  RATE_LIMITED: { category: 'limit', retryable: true },
  /** No such route or resource on the gateway (HTTP 404). */
  NOT_FOUND: { category: 'user', retryable: false },
  /** A team name the gateway's catalogue does not have (HTTP 404). */
  TEAM_UNKNOWN: { category: 'user', retryable: false },
  /** The run already ended: there is nothing left to cancel (HTTP 409). */
  RUN_FINISHED: { category: 'user', retryable: false },
  // Evals (@baton/eval).
  /** A replayed run asked for something its recording does not hold (another request, an unrecorded call). */
  EVAL_REPLAY_DIVERGED: { category: 'user', retryable: false },
  /** A suite, case, variant or recording file is not valid. */
  EVAL_SUITE_INVALID: { category: 'user', retryable: false },
  // Rollout pointers and the shared LLM semaphore (@baton/bus).
  /** Another writer changed the rollout pointer since it was read (a CAS loss): read it again and retry. */
  ROLLOUT_CONFLICT: { category: 'system', retryable: true },
  /** A semaphore permit's lease ran out (its heartbeat failed): another holder may have the slot now. */
  SEMAPHORE_LEASE_LOST: { category: 'system', retryable: true },
  INTERNAL: { category: 'system', retryable: false },
} as const satisfies Record<string, CodeSpec>;

export type BatonErrorCode = keyof typeof ERROR_CODES;

export interface BatonErrorJSON {
  name: 'BatonError';
  code: BatonErrorCode;
  category: ErrorCategory;
  message: string;
  retryable: boolean;
  hint?: string;
  details?: Record<string, unknown>;
  cause?: BatonErrorJSON | { message: string; name?: string };
}

export interface BatonErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  hint?: string;
  details?: Record<string, unknown>;
}

/** The one error type of Baton: a stable code, a category, whether to retry, and a JSON form that crosses the bus. */
export class BatonError extends Error {
  override readonly name = 'BatonError';
  readonly code: BatonErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: BatonErrorCode, message: string, options: BatonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: CodeSpec = ERROR_CODES[code] ?? ERROR_CODES.INTERNAL;
    this.code = code;
    this.category = spec.category;
    this.retryable = options.retryable ?? spec.retryable;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): BatonErrorJSON {
    const json: BatonErrorJSON = {
      name: 'BatonError',
      code: this.code,
      category: this.category,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.hint !== undefined) json.hint = this.hint;
    if (this.details !== undefined) json.details = this.details;
    const cause = this.cause;
    if (cause instanceof BatonError) json.cause = cause.toJSON();
    else if (cause instanceof Error) json.cause = { name: cause.name, message: cause.message };
    return json;
  }

  /** Rebuilds an error that crossed a process boundary. Unknown codes become INTERNAL, never a crash. */
  static fromJSON(json: unknown): BatonError {
    const parsed = batonErrorJsonSchema.safeParse(json);
    if (!parsed.success) {
      return new BatonError('INTERNAL', `Unreadable error: ${safeStringify(json).slice(0, 200)}`);
    }
    const data = parsed.data;
    const code: BatonErrorCode = isErrorCode(data.code) ? data.code : 'INTERNAL';
    const options: BatonErrorOptions = { retryable: data.retryable };
    if (data.hint !== undefined) options.hint = data.hint;
    if (data.details !== undefined) options.details = data.details;
    if (data.cause !== undefined) {
      options.cause =
        'code' in data.cause ? BatonError.fromJSON(data.cause) : Object.assign(new Error(data.cause.message));
    }
    const message = code === data.code ? data.message : `${data.code}: ${data.message}`;
    return new BatonError(code, message, options);
  }

  static is(error: unknown, code?: BatonErrorCode): error is BatonError {
    return error instanceof BatonError && (code === undefined || error.code === code);
  }

  /** Turns anything thrown into a BatonError, keeping the original as the cause. */
  static wrap(error: unknown, fallback: BatonErrorCode = 'INTERNAL'): BatonError {
    if (error instanceof BatonError) return error;
    if (isAbortError(error)) return new BatonError('ABORTED', 'The operation was aborted', { cause: error });
    if (error instanceof Error) return new BatonError(fallback, error.message, { cause: error });
    return new BatonError(fallback, safeStringify(error));
  }
}

export function isErrorCode(code: string): code is BatonErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR')
  );
}

/** Builds the error for an aborted signal, keeping a BatonError reason (a timeout, a kill) as it is. */
export function abortReason(signal: { readonly reason: unknown }): BatonError {
  const reason: unknown = signal.reason;
  if (reason instanceof BatonError) return reason;
  return new BatonError('ABORTED', 'The run was aborted', { cause: reason });
}

type CauseJSON = BatonErrorJSON | { message: string; name?: string };

export const batonErrorJsonSchema: z.ZodType<Omit<BatonErrorJSON, 'code'> & { code: string }> = z.lazy(() =>
  z.object({
    name: z.literal('BatonError'),
    code: z.string().min(1),
    category: z.enum(['user', 'provider', 'limit', 'system']),
    message: z.string(),
    retryable: z.boolean(),
    hint: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    cause: z
      .union([
        batonErrorJsonSchema as z.ZodType<CauseJSON>,
        z.object({ message: z.string(), name: z.string().optional() }),
      ])
      .optional(),
  }),
) as z.ZodType<Omit<BatonErrorJSON, 'code'> & { code: string }>;

function safeStringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
