import { draftSchema, inlineCitations, sourceRefSchema } from '@baton/agents';
import { z } from 'zod';
import { judgeCheck } from './judge.js';
import { canonicalJson } from './recording.js';
import type { Check } from './suite.js';
import type { TargetRun } from './target.js';
import type { Variant } from './variant.js';

/** One check's outcome, with the reason in words either way. */
export interface CheckResult {
  name: string;
  kind: Check['kind'];
  passed: boolean;
  reason: string;
  /** The judge's score, for a judge check. */
  score?: number;
}

export interface CheckContext {
  run: TargetRun;
  input: unknown;
  variant: Variant;
  signal?: AbortSignal;
}

/** A check's label: its name, or its kind and main parameter. */
export function checkName(check: Check): string {
  if (check.name) return check.name;
  const at = check.path ? ` ${check.path}` : '';
  switch (check.kind) {
    case 'exact':
      return `exact${at}`;
    case 'regex':
      return `regex${at} /${check.pattern}/${check.flags ?? ''}`;
    case 'contains':
      return `contains${at} "${check.text}"`;
    case 'schema':
      return `schema${at}`;
    case 'citations':
      return `citations${at}`;
    case 'tool-called':
      return `tool-called ${check.agent ? `${check.agent}.` : ''}${check.tool}`;
    case 'judge':
      return `judge${at}`;
    case 'status':
      return `status = ${check.equals}`;
    case 'metric':
      return `metric ${check.metric}`;
  }
}

/** Evaluates one check against a run. Never throws for a failing run: a failure is a result. */
export async function evaluateCheck(check: Check, context: CheckContext): Promise<CheckResult> {
  const name = checkName(check);
  const result = (passed: boolean, reason: string): CheckResult => ({
    name,
    kind: check.kind,
    passed,
    reason,
  });
  const { run } = context;
  if (check.kind === 'status') {
    return result(
      run.status === check.equals,
      run.status === check.equals
        ? `status ${run.status}`
        : `status ${run.status}, expected ${check.equals}${run.reason ? ` (${run.reason})` : ''}`,
    );
  }
  if (check.kind === 'metric') return metricCheck(check, run, result);
  if (check.kind === 'tool-called') return toolCalledCheck(check, run, result);
  const selected = select(run.output, check.path);
  if (!selected.found)
    return result(false, `no value at ${check.path ?? 'the output'} (status ${run.status})`);
  const value = selected.value;
  switch (check.kind) {
    case 'exact': {
      const equal = canonicalJson(value) === canonicalJson(check.value);
      return result(
        equal,
        equal ? 'equal' : `got ${clip(canonicalJson(value))}, expected ${clip(canonicalJson(check.value))}`,
      );
    }
    case 'regex': {
      const text = textOf(value);
      const matched = new RegExp(check.pattern, (check.flags ?? '').replace('g', '')).test(text);
      const passed = check.negate ? !matched : matched;
      return result(
        passed,
        `${matched ? 'matches' : 'does not match'} /${check.pattern}/${check.negate ? ' (must not)' : ''}: ${clip(text)}`,
      );
    }
    case 'contains': {
      const text = textOf(value);
      const found = check.caseSensitive
        ? text.includes(check.text)
        : text.toLowerCase().includes(check.text.toLowerCase());
      return result(found, found ? `contains "${check.text}"` : `"${check.text}" not in ${clip(text)}`);
    }
    case 'schema':
      return schemaCheck(check.schema, value, result);
    case 'citations':
      return citationsCheck(check, value, result);
    case 'judge': {
      const judged = await judgeCheck(check, value, context);
      return { name, kind: 'judge', ...judged };
    }
  }
}

type Result = (passed: boolean, reason: string) => CheckResult;

function metricCheck(check: Extract<Check, { kind: 'metric' }>, run: TargetRun, result: Result): CheckResult {
  const value =
    check.metric === 'tokens'
      ? run.usage.inputTokens + run.usage.outputTokens
      : check.metric === 'costUsd'
        ? run.costUsd
        : run[check.metric];
  if (value === null) return result(false, `${check.metric} is unknown (a step had no price)`);
  const problems = [
    check.max !== undefined && value > check.max ? `above ${check.max}` : undefined,
    check.min !== undefined && value < check.min ? `below ${check.min}` : undefined,
  ].filter((problem) => problem !== undefined);
  return result(
    problems.length === 0,
    `${check.metric} ${value}${problems.length ? ` (${problems.join(', ')})` : ''}`,
  );
}

function toolCalledCheck(
  check: Extract<Check, { kind: 'tool-called' }>,
  run: TargetRun,
  result: Result,
): CheckResult {
  const wantOk = check.ok ?? true;
  const calls = run.toolCalls.filter(
    (call) =>
      call.tool === check.tool &&
      (check.agent === undefined || call.agent === check.agent) &&
      (!wantOk || call.ok) &&
      (check.args === undefined || isSubset(check.args, call.args)),
  );
  const min = check.min ?? 1;
  const passed = calls.length >= min && (check.max === undefined || calls.length <= check.max);
  const bounds = check.max === undefined ? `≥ ${min}` : `${min}–${check.max}`;
  const seen = [...new Set(run.toolCalls.map((call) => `${call.agent}.${call.tool}`))].join(', ') || 'none';
  return result(
    passed,
    `${calls.length} matching call(s) of ${check.tool}${wantOk ? ' (ok)' : ''}, expected ${bounds}; tools called: ${seen}`,
  );
}

function schemaCheck(schema: Record<string, unknown>, value: unknown, result: Result): CheckResult {
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(withArrayItems(schema) as never);
  } catch (error) {
    return result(false, `the check's JSON Schema is not usable: ${(error as Error).message}`);
  }
  const parsed = validator.safeParse(value);
  if (parsed.success) return result(true, 'valid');
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return result(false, `invalid: ${problems.join('; ')}`);
}

/**
 * zod's JSON Schema import drops `minItems`/`maxItems` from an array schema without `items`; an explicit
 * `items: {}` (any item, the JSON Schema default) keeps them.
 */
function withArrayItems(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withArrayItems);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = withArrayItems(value);
  if (copy.type === 'array' && copy.items === undefined && copy.prefixItems === undefined) copy.items = {};
  return copy;
}

const reportSchema = z.object({ draft: draftSchema, sources: z.array(sourceRefSchema) });

/** Citations of a research report ({ draft, sources }), a bare draft, or a text with inline [id] markers. */
function citationsCheck(
  check: Extract<Check, { kind: 'citations' }>,
  value: unknown,
  result: Result,
): CheckResult {
  const min = check.min ?? 1;
  const report = reportSchema.safeParse(value);
  const draft = report.success ? report.data.draft : draftSchema.safeParse(value).data;
  let cited: Set<string>;
  const problems: string[] = [];
  if (draft) {
    cited = new Set(draft.citations);
    for (const section of draft.sections) {
      const here = new Set([...section.citations, ...inlineCitations(section.body)]);
      for (const id of here) cited.add(id);
      if (check.everySection && here.size === 0) problems.push(`section "${section.heading}" cites nothing`);
    }
    if (report.success) {
      const known = new Set(report.data.sources.map((source) => source.id));
      const unknown = [...cited].filter((id) => !known.has(id));
      if (unknown.length > 0) problems.push(`cites ${unknown.join(', ')}, not among its sources`);
    }
  } else if (typeof value === 'string') {
    cited = new Set(inlineCitations(value));
  } else {
    return result(false, 'the value is neither a report with a draft and sources, a draft, nor a text');
  }
  if (cited.size < min) problems.push(`${cited.size} distinct citation(s), expected ≥ ${min}`);
  const missing = (check.include ?? []).filter((id) => !cited.has(id));
  if (missing.length > 0) problems.push(`does not cite ${missing.join(', ')}`);
  return result(
    problems.length === 0,
    problems.length === 0 ? `${cited.size} citation(s): ${[...cited].join(', ')}` : problems.join('; '),
  );
}

/** The value at a dotted path (`draft.sections.0.heading`). */
export function select(value: unknown, path: string | undefined): { found: boolean; value: unknown } {
  if (path === undefined) return { found: value !== undefined, value };
  let current = value;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) {
      return { found: false, value: undefined };
    }
    current = (current as Record<string, unknown>)[part];
  }
  return { found: current !== undefined, value: current };
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isSubset(expected: Record<string, unknown>, actual: unknown): boolean {
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(
    ([key, want]) => canonicalJson((actual as Record<string, unknown>)[key]) === canonicalJson(want),
  );
}

function clip(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
