/**
 * The contract between the measuring harness and one framework's workload. Every framework (Baton, the
 * bare floor, each peer in bench/peers/*.mjs) runs the same two-step agent:
 *
 *   step 1: an instant in-process fake model asks for one call of a no-op tool `noop` (no arguments);
 *   step 2: the model answers with the final text `done`.
 *
 * The fake model reads the conversation (a tool result present → answer), so it never runs out and
 * concurrent runs cannot steal each other's replies.
 */

/** Shared between the harness and the workload's fake model and tool. */
export interface Probe {
  /**
   * When set, the second model call of every run awaits it before answering: the heap measurement uses
   * it to hold runs in flight, mid-loop (the tool has already run). Unset while timing.
   */
  hold: Promise<void> | undefined;
  /** Runs that reached the held model call. */
  arrived: number;
  /** Counted by the fake model and the tool, so the harness can check that every run did both steps. */
  modelCalls: number;
  toolCalls: number;
}

export interface Workload {
  /** Package name measured (or `baton`, `floor`). */
  framework: string;
  /** Installed version of that package. */
  version: string;
  /** One complete two-step run; resolves with the final text (`done`). */
  runOnce(): Promise<string>;
}

/** What an adapter module default-exports. */
export type CreateWorkload = (probe: Probe) => Workload | Promise<Workload>;

export const FINAL_TEXT = 'done';
export const TOOL_NAME = 'noop';
export const TOOL_OUTPUT = 'ok';
