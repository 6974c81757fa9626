import type { BudgetRemaining, RunResult } from '@baton/core';
import type { Envelope } from './envelope.js';
import { isVerbatim, jsonNumber, toJson } from './json.js';

/**
 * JSON for the shapes Baton sends on every message (envelope, budget, RunResult), written field by field
 * in one template each: the generic writer spends a key lookup and an escaping check per key, and
 * envelopes and results have dozens. Anything off the common shape (a string that needs escaping, an
 * unexpected key) takes `toJson`, which is JSON.stringify with the same semantics, for the whole value.
 * Either way the text parses to exactly what JSON.stringify would have produced.
 */

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
  'unpriced',
  'spent',
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
  const written = toJson(value);
  return written === undefined ? '' : `,"${name}":${written}`;
}

/** JSON of a value that has one (an object or array the caller checked). */
function json(value: object): string {
  return toJson(value) as string;
}

/** True when a RunResult has the usual shape and every string in its fixed fields is verbatim. */
function isPlainResult(result: RunResult): boolean {
  if (typeof result !== 'object' || result === null) return false;
  const { usage, partial } = result;
  return (
    hasOnly(result, RESULT_KEYS) &&
    typeof usage === 'object' &&
    usage !== null &&
    typeof partial === 'object' &&
    partial !== null &&
    hasOnly(partial, PARTIAL_KEYS) &&
    typeof partial.summary === 'string' &&
    typeof result.status === 'string' &&
    typeof result.runId === 'string' &&
    typeof result.traceId === 'string' &&
    typeof result.spanId === 'string' &&
    typeof result.agent === 'string' &&
    typeof result.steps === 'number' &&
    typeof result.costUsd === 'number' &&
    typeof result.durationMs === 'number' &&
    isVerbatim(result.status) &&
    isVerbatim(result.runId) &&
    isVerbatim(result.traceId) &&
    isVerbatim(result.spanId) &&
    isVerbatim(result.agent) &&
    isVerbatim(partial.summary)
  );
}

/** JSON of a RunResult as it crosses the bus. */
export function runResultJson(result: RunResult): string {
  if (!isPlainResult(result)) return json(result);
  const { partial } = result;
  return (
    `{"status":"${result.status}"${field('output', result.output)}` +
    `,"partial":{"summary":"${partial.summary}"${field('text', partial.text)}` +
    `${field('toolResults', partial.toolResults)}${field('missing', partial.missing)}}` +
    `${field('error', result.error)},"steps":${jsonNumber(result.steps)},"usage":${json(result.usage)}` +
    `,"costUsd":${jsonNumber(result.costUsd)}${field('unpriced', result.unpriced)}${field('spent', result.spent)}` +
    `,"durationMs":${jsonNumber(result.durationMs)}` +
    `,"runId":"${result.runId}","traceId":"${result.traceId}","spanId":"${result.spanId}"` +
    `,"agent":"${result.agent}"${field('state', result.state)}}`
  );
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
  const written = `"kind":"${kind}","contract":"${contract}","from":"${from}","to":"${to}"`;
  if (routes.length >= ROUTES_KEPT) routes.shift();
  routes.push({ kind, contract, from, to, json: written });
  return written;
}

/**
 * `,"tenant":…,"user":…,"session":…` of an envelope ('' without them), then its guard recipes, or
 * undefined when one needs escaping.
 */
function identityJson(envelope: Envelope): string | undefined {
  const { tenant, user, session, guards } = envelope;
  if (tenant === undefined && user === undefined && session === undefined && guards === undefined) return '';
  if (
    (tenant !== undefined && !isVerbatim(tenant)) ||
    (user !== undefined && !isVerbatim(user)) ||
    (session !== undefined && !isVerbatim(session))
  ) {
    return undefined;
  }
  return (
    `${tenant === undefined ? '' : `,"tenant":"${tenant}"`}${user === undefined ? '' : `,"user":"${user}"`}` +
    `${session === undefined ? '' : `,"session":"${session}"`}${guards === undefined ? '' : field('guards', guards)}`
  );
}

/** JSON of a (valid) envelope. */
export function envelopeJson(envelope: Envelope): string {
  const { id, runId, correlationId, causationId, deadline } = envelope;
  const identity = identityJson(envelope);
  const route =
    identity !== undefined &&
    isVerbatim(id) &&
    isVerbatim(runId) &&
    isVerbatim(correlationId) &&
    (causationId === null || isVerbatim(causationId))
      ? routeJson(envelope)
      : undefined;
  if (route === undefined) return json(envelope);
  const payload = envelope.payload;
  const body = envelope.kind === 'result' ? runResultJson(payload as RunResult) : toJson(payload);
  return (
    `{"v":1,"id":"${id}",${route},"runId":"${runId}","correlationId":"${correlationId}"` +
    `,"causationId":${causationId === null ? 'null' : `"${causationId}"`}` +
    `,"deadline":${deadline === null ? 'null' : jsonNumber(deadline)},"budget":${budgetJson(envelope.budget)}` +
    `,"attempt":${jsonNumber(envelope.attempt)},"hop":${jsonNumber(envelope.hop)}${identity}` +
    (body === undefined ? '}' : `,"payload":${body}}`)
  );
}
