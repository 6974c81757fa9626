import type { BudgetRemaining, RunResult } from '@baton/core';
import type { Envelope } from './envelope.js';
import { isVerbatim, jsonString, toJson } from './json.js';

/**
 * JSON for the shapes Baton sends on every message (envelope, budget, RunResult), written field by field.
 * The generic JSON.stringify of Node 20 spends ~50 ns per key; envelopes and results have dozens, which
 * made the fixed format cost more than the user's payload. User data inside (payload, output, tool
 * results, errors, state) goes through `toJson`, which is JSON.stringify with the same semantics (toJSON,
 * undefined). The output is exactly what JSON.stringify would have produced.
 */

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

function budgetJson(budget: BudgetRemaining): string {
  let out = '';
  for (const key in budget) {
    const value = budget[key as keyof BudgetRemaining];
    if (value === undefined) continue;
    if (key !== 'steps' && key !== 'tokens' && key !== 'costUsd' && key !== 'deadline') return json(budget);
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

/** `,"name":<json>`, or nothing when the value has no JSON form (as JSON.stringify skips it). */
function field(name: string, value: unknown): string {
  const json = toJson(value);
  return json === undefined ? '' : `,"${name}":${json}`;
}

function partialJson(partial: RunResult['partial']): string {
  if (!hasOnly(partial, PARTIAL_KEYS) || typeof partial.summary !== 'string') return json(partial);
  return (
    `{"summary":${jsonString(partial.summary)}${field('text', partial.text)}` +
    `${field('toolResults', partial.toolResults)}${field('missing', partial.missing)}}`
  );
}

/** JSON of a RunResult as it crosses the bus; anything unexpected takes the generic writer. */
export function runResultJson(result: RunResult): string {
  if (typeof result !== 'object' || result === null || !hasOnly(result, RESULT_KEYS)) return json(result);
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
    return json(result);
  }
  const { status, runId, traceId, spanId, agent } = result;
  const summary = partial.summary;
  // One template with the quotes in it makes far fewer string pieces to join (and to flatten before
  // parsing) than quoting each field on its own; it needs every string to be verbatim.
  const tail =
    `${field('error', result.error)},"steps":${jsonNumber(result.steps)},"usage":${json(usage)}` +
    `,"costUsd":${jsonNumber(result.costUsd)},"durationMs":${jsonNumber(result.durationMs)}`;
  if (
    isVerbatim(status) &&
    isVerbatim(runId) &&
    isVerbatim(traceId) &&
    isVerbatim(spanId) &&
    isVerbatim(agent) &&
    isVerbatim(summary) &&
    hasOnly(partial, PARTIAL_KEYS)
  ) {
    return (
      `{"status":"${status}"${field('output', result.output)},"partial":{"summary":"${summary}"` +
      `${field('text', partial.text)}${field('toolResults', partial.toolResults)}${field('missing', partial.missing)}}` +
      `${tail},"runId":"${runId}","traceId":"${traceId}","spanId":"${spanId}","agent":"${agent}"${field('state', result.state)}}`
    );
  }
  return (
    `{"status":${jsonString(status)}${field('output', result.output)},"partial":${partialJson(partial)}` +
    `${tail},"runId":${jsonString(runId)},"traceId":${jsonString(traceId)},"spanId":${jsonString(spanId)}` +
    `,"agent":${jsonString(agent)}${field('state', result.state)}}`
  );
}

/** JSON of a value that has one (an object or array the caller checked). */
function json(value: object): string {
  return toJson(value) as string;
}

interface Route {
  kind: string;
  contract: string;
  from: string;
  to: string;
  json: string;
}

/** The routes of recent envelopes, most recent last: a handful carry almost every message. */
const routes: Route[] = [];
const ROUTES_KEPT = 8;

/**
 * `"kind":…,"contract":…,"from":…,"to":…` of an envelope, or undefined when a part needs escaping.
 * Reusing the text of a recent route saves three escaping checks and eight string pieces per message.
 */
function routeJson(envelope: Envelope): string | undefined {
  const { kind, contract, from, to } = envelope;
  for (let index = routes.length - 1; index >= 0; index--) {
    const route = routes[index] as Route;
    if (route.to === to && route.from === from && route.contract === contract && route.kind === kind)
      return route.json;
  }
  if (!isVerbatim(contract) || !isVerbatim(from) || !isVerbatim(to)) return undefined;
  const json = `"kind":"${kind}","contract":"${contract}","from":"${from}","to":"${to}"`;
  if (routes.length >= ROUTES_KEPT) routes.shift();
  routes.push({ kind, contract, from, to, json });
  return json;
}

/** JSON of a (valid) envelope. */
export function envelopeJson(envelope: Envelope): string {
  const payload = envelope.payload;
  const body = envelope.kind === 'result' ? runResultJson(payload as RunResult) : toJson(payload);
  const { id, kind, contract, from, to, runId, correlationId, causationId, deadline } = envelope;
  const numbers =
    `"deadline":${deadline === null ? 'null' : jsonNumber(deadline)},"budget":${budgetJson(envelope.budget)}` +
    `,"attempt":${jsonNumber(envelope.attempt)},"hop":${jsonNumber(envelope.hop)}` +
    (body === undefined ? '}' : `,"payload":${body}}`);
  const route =
    isVerbatim(id) && isVerbatim(runId) && isVerbatim(correlationId) ? routeJson(envelope) : undefined;
  if (route !== undefined && (causationId === null || isVerbatim(causationId))) {
    return (
      `{"v":1,"id":"${id}",${route},"runId":"${runId}","correlationId":"${correlationId}"` +
      `,"causationId":${causationId === null ? 'null' : `"${causationId}"`},${numbers}`
    );
  }
  return (
    `{"v":1,"id":${jsonString(id)},"kind":"${kind}","contract":${jsonString(contract)}` +
    `,"from":${jsonString(from)},"to":${jsonString(to)},"runId":${jsonString(runId)}` +
    `,"correlationId":${jsonString(correlationId)}` +
    `,"causationId":${causationId === null ? 'null' : jsonString(causationId)},${numbers}`
  );
}
