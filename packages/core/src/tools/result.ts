import { BatonError, type BatonErrorCode, type BatonErrorOptions, ERROR_CODES } from '../errors.js';

export interface ToolFailure {
  /** A Baton code (TOOL_INPUT_INVALID, TOOL_TIMEOUT, ...) or the tool's own code from a ToolError. */
  code: string;
  message: string;
  retryable: boolean;
  /** What the model should do next. */
  hint?: string;
  details?: Record<string, unknown>;
}

/** Every tool outcome is one of these; a tool never throws into the loop. */
export type ToolResult<O = unknown> =
  | { ok: true; data: O; truncated?: boolean }
  | { ok: false; error: ToolFailure };

/**
 * Thrown by a tool to report a failure the model can act on, with the tool's own code
 * (`NOT_FOUND`, `QUOTA`, ...), whether retrying may help and a hint.
 */
export class ToolError extends BatonError {
  readonly toolCode: string;

  constructor(toolCode: string, message: string, options: BatonErrorOptions = {}) {
    super('TOOL_FAILED', message, options);
    this.toolCode = toolCode;
  }
}

export function toolFailure(
  code: BatonErrorCode,
  message: string,
  extra: { hint?: string; retryable?: boolean; details?: Record<string, unknown> } = {},
): { ok: false; error: ToolFailure } {
  const error: ToolFailure = { code, message, retryable: extra.retryable ?? ERROR_CODES[code].retryable };
  if (extra.hint !== undefined) error.hint = extra.hint;
  if (extra.details !== undefined) error.details = extra.details;
  return { ok: false, error };
}

export function failureFromError(error: unknown): { ok: false; error: ToolFailure } {
  if (error instanceof ToolError) {
    const failure: ToolFailure = { code: error.toolCode, message: error.message, retryable: error.retryable };
    if (error.hint !== undefined) failure.hint = error.hint;
    if (error.details !== undefined) failure.details = error.details;
    return { ok: false, error: failure };
  }
  const wrapped = BatonError.wrap(error, 'TOOL_FAILED');
  const failure: ToolFailure = { code: wrapped.code, message: wrapped.message, retryable: wrapped.retryable };
  if (wrapped.hint !== undefined) failure.hint = wrapped.hint;
  return { ok: false, error: failure };
}
