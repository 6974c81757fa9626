import type { JsonSchema } from '@baton/core';
import { draftSchema, researchFindingsSchema, type SourceRef, verdictSchema } from '../../contracts.js';
import { renderDraft } from '../../render.js';
import { countWord } from '../../text.js';
import { extractJson, taskText } from '../conversation.js';
import { fitToSchema } from '../schema-fit.js';
import {
  finalAnswer,
  lookupIn,
  normalizeKey,
  OFFLINE_LABEL,
  type OfflineTurn,
  type TurnContext,
} from '../turn.js';

export const DELEGATE_PREFIX = 'delegate_to_';
const MAX_REVISIONS = 2;
const TASK_KEYS = [
  'topic',
  'task',
  'query',
  'question',
  'goal',
  'prompt',
  'request',
  'input',
  'objective',
  'subject',
];

interface Entry {
  value: unknown;
  seq: number;
}

/** What the manager knows, by property name; later results overwrite earlier ones. */
class Board {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  set(key: string, value: unknown): void {
    if (value !== undefined) this.entries.set(normalizeKey(key), { value, seq: ++this.seq });
  }

  setIfAbsent(key: string, value: unknown): void {
    if (!this.entries.has(normalizeKey(key))) this.set(key, value);
  }

  entry(key: string): Entry | undefined {
    return this.entries.get(normalizeKey(key));
  }

  get(key: string): unknown {
    return this.entry(key)?.value;
  }
}

interface Delegation {
  worker: string;
  ok: boolean;
  args: string;
  error?: string;
}

/**
 * The offline manager of a supervisor team. It looks at the `delegate_to_<worker>` tools it was given,
 * fills each one's arguments from what it knows (the task, then every worker's result, matched by
 * property name), and delegates every worker whose inputs are ready and new — so research comes first,
 * then writing, then review, and a "revise" verdict sends the draft back to the writer (at most twice).
 * When nothing new can be delegated, or a reviewer approved the latest draft, it synthesizes the answer.
 */
export function managerTurn(context: TurnContext): OfflineTurn {
  const board = new Board();
  seedTask(board, context);
  const delegations = readDelegations(board, context);
  const tools = [...context.tools.values()].filter((tool) => tool.name.startsWith(DELEGATE_PREFIX));

  if (!approvedLatest(board)) {
    const made = new Set(delegations.map((delegation) => `${delegation.worker}:${delegation.args}`));
    const failed = new Set(delegations.filter((d) => !d.ok).map((d) => d.worker));
    const calls: NonNullable<OfflineTurn['toolCalls']> = [];
    for (const tool of tools) {
      const worker = tool.name.slice(DELEGATE_PREFIX.length);
      if (failed.has(worker)) continue;
      const args = argumentsFor(tool.parameters, board, delegations);
      if (args && !made.has(`${worker}:${canonical(args)}`)) calls.push({ name: tool.name, args });
    }
    if (calls.length > 0) return { toolCalls: calls };
  }
  return synthesize(context, board, delegations);
}

function seedTask(board: Board, context: TurnContext): void {
  const text = taskText(context.messages);
  const json = extractJson(text);
  if (isRecord(json)) for (const [key, value] of Object.entries(json)) board.set(key, value);
  const task = TASK_KEYS.map((key) => board.get(key)).find((value) => typeof value === 'string') ?? text;
  for (const key of TASK_KEYS) board.setIfAbsent(key, task);
}

function readDelegations(board: Board, context: TurnContext): Delegation[] {
  const delegations: Delegation[] = [];
  for (const { call, result } of context.exchanges) {
    if (!call.name.startsWith(DELEGATE_PREFIX)) continue;
    const worker = call.name.slice(DELEGATE_PREFIX.length);
    const args = canonical(call.arguments);
    if (!result?.ok) {
      delegations.push({
        worker,
        ok: false,
        args,
        error: result && !result.ok ? result.error.message : 'no readable result',
      });
      continue;
    }
    delegations.push({ worker, ok: true, args });
    const output = unwrap(result.data);
    board.set(worker, output);
    if (!isRecord(output)) continue;
    if (draftSchema.safeParse(output).success) board.set('draft', output);
    if (verdictSchema.safeParse(output).success) board.set('verdict', output);
    if (researchFindingsSchema.safeParse(output).success) board.set('research', output);
    for (const [key, value] of Object.entries(output)) board.set(key, value);
  }
  return delegations;
}

/** A delegated run's result may come as the worker's output or wrapped with its status. */
function unwrap(data: unknown): unknown {
  // A delegation result: the supervisor's `{ worker, output }`, or a run result `{ status, output, runId }`.
  if (isRecord(data) && isRecord(data.output) && ('status' in data || 'runId' in data || 'worker' in data)) {
    return data.output;
  }
  return data;
}

function approvedLatest(board: Board): boolean {
  const verdict = board.entry('verdict');
  const draft = board.entry('draft');
  if (!verdict || !isRecord(verdict.value) || verdict.value.decision !== 'approve') return false;
  return !draft || verdict.seq > draft.seq;
}

/** The tool's arguments from the board, or undefined while a required one is unknown. */
function argumentsFor(
  parameters: JsonSchema,
  board: Board,
  delegations: readonly Delegation[],
): Record<string, unknown> | undefined {
  const properties = isRecord(parameters.properties) ? parameters.properties : {};
  const required = new Set(Array.isArray(parameters.required) ? (parameters.required as string[]) : []);
  const args: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    const value = key === 'revision' ? revisionFor(board, delegations) : board.get(key);
    if (value !== undefined) args[key] = value;
    else if (required.has(key)) return undefined;
  }
  return fitToSchema(parameters, args) as Record<string, unknown>;
}

/** A revision request exists only while the latest verdict, newer than the latest draft, says revise. */
function revisionFor(board: Board, delegations: readonly Delegation[]): unknown {
  const verdict = board.entry('verdict');
  const draft = board.entry('draft');
  if (!verdict || !draft || verdict.seq < draft.seq || !isRecord(verdict.value)) return undefined;
  if (verdict.value.decision !== 'revise') return undefined;
  const round = delegations.filter((d) => d.ok && d.args.includes('"revision":')).length + 1;
  if (round > MAX_REVISIONS) return undefined;
  return { round, issues: verdict.value.issues, previousDraft: draft.value };
}

function synthesize(context: TurnContext, board: Board, delegations: readonly Delegation[]): OfflineTurn {
  const draft = draftSchema.safeParse(board.get('draft'));
  const verdict = verdictSchema.safeParse(board.get('verdict'));
  const research = researchFindingsSchema.safeParse(board.get('research'));
  const sources = (research.success ? research.data.sources : []) as SourceRef[];
  const parts: string[] = [];
  if (draft.success) parts.push(renderDraft(draft.data, sources));
  else if (research.success) {
    parts.push(`# ${research.data.topic}`, '', research.data.summary, '');
    for (const finding of research.data.findings)
      parts.push(`- ${finding.claim} [${finding.sources.join('] [')}]`);
  } else parts.push(`No worker produced a usable result for: ${String(board.get('task') ?? 'the task')}`);
  parts.push('', '---', teamNote(delegations, verdict.success ? verdict.data : undefined));
  const report = parts.join('\n');

  const answer = {
    ...(draft.success ? draft.data : {}),
    report,
    answer: report,
    text: report,
    result: report,
  };
  const own = lookupIn(answer);
  return finalAnswer(context, answer, { lookup: (key) => own(key) ?? board.get(key), render: () => report });
}

function teamNote(
  delegations: readonly Delegation[],
  verdict: { decision: string; score: number } | undefined,
): string {
  const counts = new Map<string, { ok: number; failed: number }>();
  for (const delegation of delegations) {
    const count = counts.get(delegation.worker) ?? { ok: 0, failed: 0 };
    if (delegation.ok) count.ok++;
    else count.failed++;
    counts.set(delegation.worker, count);
  }
  const work = [...counts.entries()]
    .map(
      ([worker, { ok, failed }]) => `${worker} ×${ok}${failed > 0 ? ` (${countWord(failed)} failed)` : ''}`,
    )
    .join(', ');
  const failures = delegations.filter((d) => !d.ok).map((d) => `${d.worker}: ${d.error}`);
  const review = verdict
    ? `Review: ${verdict.decision === 'approve' ? 'approved' : 'not approved'} (score ${verdict.score}/10).`
    : 'Review: none.';
  return [
    `${review} Delegations: ${work || 'none'}.`,
    ...(failures.length > 0 ? [`Failures: ${failures.join('; ')}.`] : []),
    `Synthesized by the ${OFFLINE_LABEL}.`,
  ].join(' ');
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
    .join(',')}}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
