/**
 * Guardrails: checks that stand between a run and what goes in or out of it. A guard passes a value,
 * rewrites it (redacts a card number) or trips (stops the run with `guardrail_tripped`). Guards that
 * stand in front of a side effect run before it, never beside it; a guard that fails — throws, times
 * out, its judge model errors — fails closed unless it says otherwise.
 */

/** Where a guard stands. */
export type GuardStage = 'input' | 'output' | 'toolInput' | 'toolOutput' | 'memoryWrite';

/** Something a guard found, for spans, events and the audit trail (never the sensitive text itself). */
export interface GuardFinding {
  /** What it is: `email`, `credit_card`, `us_ssn`, `api_key`, `injection`, `length`, ... */
  kind: string;
  /** Where, in the checked text (UTF-16 offsets), when it is text. */
  start?: number;
  end?: number;
  /** How sure, 0–1, when the detector scores. */
  score?: number;
  /** A short, non-sensitive note (`matches an allow-list`, `Luhn valid`). */
  note?: string;
}

export type GuardVerdict =
  | { action: 'pass'; findings?: GuardFinding[] }
  /** Continue with `value` instead (redacted text, cleaned arguments). */
  | { action: 'rewrite'; value: unknown; reason: string; findings?: GuardFinding[] }
  /** Stop: the run ends `guardrail_tripped`, naming the guard and the reason. */
  | { action: 'trip'; reason: string; findings?: GuardFinding[] };

export interface GuardContext {
  stage: GuardStage;
  runId: string;
  agent: string;
  /** The tool, at `toolInput` and `toolOutput`. */
  tool?: string;
  tenantId?: string;
  userId?: string;
  /** Aborts when the run stops or the guard's time is up. */
  signal: AbortSignal;
}

export interface Guard {
  /** Named in the `guardrail_tripped` error, on spans and in the audit trail. */
  readonly name: string;
  /** Stages it applies to when listed for several (default: every stage it is listed under). */
  readonly stages?: readonly GuardStage[];
  /** Longest a check may take; a guard that takes longer failed (default 5 s). */
  readonly timeoutMs?: number;
  /** `closed` (default): a guard that fails trips. `open`: it passes, and the failure is recorded. */
  readonly onError?: 'closed' | 'open';
  /**
   * The value checked: at `input` the run's input, at `output` the final answer, at `toolInput` the tool's
   * arguments, at `toolOutput` the tool's result data, at `memoryWrite` the record's content.
   */
  check(value: unknown, context: GuardContext): GuardVerdict | Promise<GuardVerdict>;
}

/** The guards of an agent or a team, by stage, in the order they run. */
export interface Guardrails {
  input?: readonly Guard[];
  output?: readonly Guard[];
  toolInput?: readonly Guard[];
  toolOutput?: readonly Guard[];
  memoryWrite?: readonly Guard[];
}

/** Passes. */
export const PASS: GuardVerdict = Object.freeze({ action: 'pass' });
