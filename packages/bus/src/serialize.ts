import type { BudgetRemaining, RunResult } from '@baton/core';
import type { Envelope } from './envelope.js';

/**
 * JSON for the shapes Baton sends on every message (envelope, budget, RunResult), written field by field.
 * The generic JSON.stringify of Node 20 spends ~50 ns per key; envelopes and results have dozens, which
 * made the fixed format cost more than the user's payload. User data inside (payload, output, tool
 * results, errors, state) still goes through JSON.stringify, so its semantics (toJSON, undefined) hold.
 * The output parses to exactly what JSON.stringify would have produced.
 */

/** Printable ASCII without `"` and `\`: such a string needs no escaping. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

function budgetJson(budget: BudgetRemaining): string {
  let out = '';
  for (const key in budget) {
    const value = budget[key as keyof BudgetRemaining];
    if (value === undefined) continue;
    if (key !== 'steps' && key !== 'tokens' && key !== 'costUsd' && key !== 'deadline')
      return JSON.stringify(budget);
    out += `${out === '' ? '' : ','}"${key}":${jsonNumber(value)}`;
  }
  return `{${out}}`;
}

const RESULT_KEYS: ReadonlySet<string> = new Set([
  'status',
  'output',
  'partial',
  'error',
  'steps',
  'usage',
  'costUsd',
  'durationMs',
  'runId',
  'traceId',
  'spanId',
  'agent',
  'state',
]);

const PARTIAL_KEYS: ReadonlySet<string> = new Set(['summary', 'text', 'toolResults', 'missing']);

function hasOnly(value: object, keys: ReadonlySet<string>): boolean {
  for (const key in value) if (!keys.has(key)) return false;
  return true;
}

function partialJson(partial: RunResult['partial']): string {
  if (!hasOnly(partial, PARTIAL_KEYS) || typeof partial.summary !== 'string') return JSON.stringify(partial);
  let out = `{"summary":${jsonString(partial.summary)}`;
  if (partial.text !== undefined)
    out += `,"text":${typeof partial.text === 'string' ? jsonString(partial.text) : JSON.stringify(partial.text)}`;
  if (partial.toolResults !== undefined) {
    out += `,"toolResults":${partial.toolResults.length === 0 ? '[]' : JSON.stringify(partial.toolResults)}`;
  }
  if (partial.missing !== undefined)
    out += `,"missing":${partial.missing.length === 0 ? '[]' : JSON.stringify(partial.missing)}`;
  return `${out}}`;
}

/** JSON of a RunResult as it crosses the bus; anything unexpected falls back to JSON.stringify. */
export function runResultJson(result: RunResult): string {
  if (typeof result !== 'object' || result === null || !hasOnly(result, RESULT_KEYS))
    return JSON.stringify(result);
  const { usage, partial } = result;
  if (
    typeof usage !== 'object' ||
    usage === null ||
    typeof partial !== 'object' ||
    partial === null ||
    typeof result.status !== 'string' ||
    typeof result.runId !== 'string' ||
    typeof result.traceId !== 'string' ||
    typeof result.spanId !== 'string' ||
    typeof result.agent !== 'string' ||
    typeof result.steps !== 'number' ||
    typeof result.costUsd !== 'number' ||
    typeof result.durationMs !== 'number'
  ) {
    return JSON.stringify(result);
  }
  let out = `{"status":${jsonString(result.status)}`;
  if (result.output !== undefined) out += `,"output":${JSON.stringify(result.output)}`;
  out += `,"partial":${partialJson(partial)}`;
  if (result.error !== undefined) out += `,"error":${JSON.stringify(result.error)}`;
  out +=
    `,"steps":${jsonNumber(result.steps)},"usage":${JSON.stringify(usage)},"costUsd":${jsonNumber(result.costUsd)}` +
    `,"durationMs":${jsonNumber(result.durationMs)},"runId":${jsonString(result.runId)}` +
    `,"traceId":${jsonString(result.traceId)},"spanId":${jsonString(result.spanId)},"agent":${jsonString(result.agent)}`;
  if (result.state !== undefined) out += `,"state":${JSON.stringify(result.state)}`;
  return `${out}}`;
}

/** JSON of a (valid) envelope. */
export function envelopeJson(envelope: Envelope): string {
  const payload = envelope.payload;
  let body: string | undefined;
  if (payload === undefined) body = undefined;
  else if (envelope.kind === 'result') body = runResultJson(payload as RunResult);
  else body = JSON.stringify(payload);
  return (
    `{"v":1,"id":${jsonString(envelope.id)},"kind":"${envelope.kind}","contract":${jsonString(envelope.contract)}` +
    `,"from":${jsonString(envelope.from)},"to":${jsonString(envelope.to)},"runId":${jsonString(envelope.runId)}` +
    `,"correlationId":${jsonString(envelope.correlationId)}` +
    `,"causationId":${envelope.causationId === null ? 'null' : jsonString(envelope.causationId)}` +
    `,"deadline":${envelope.deadline === null ? 'null' : jsonNumber(envelope.deadline)}` +
    `,"budget":${budgetJson(envelope.budget)},"attempt":${jsonNumber(envelope.attempt)},"hop":${jsonNumber(envelope.hop)}` +
    (body === undefined ? '}' : `,"payload":${body}}`)
  );
}
