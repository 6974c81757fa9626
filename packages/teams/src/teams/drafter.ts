import { randomUUID } from 'node:crypto';
import {
  draftSchema,
  findingSchema,
  type ReviewIssue,
  researcher,
  researchFindingsSchema,
  sourceRefSchema,
  type WriteRequest,
  writer,
} from '@baton/agents';
import {
  type AgentLike,
  addUsage,
  BatonError,
  emptyUsage,
  type RunOptions,
  type RunResult,
} from '@baton/core';
import { type Critique, debateGenerate } from '@baton/supervisor';
import { z } from 'zod';

/** What the drafter proposes each round: the draft, plus the research it rests on (so it can revise). */
export const candidateSchema = z.object({
  topic: z.string(),
  draft: draftSchema,
  sources: z.array(sourceRefSchema),
  findings: z.array(findingSchema),
});
export type DebateCandidate = z.output<typeof candidateSchema>;

type GenerateInput = z.output<typeof debateGenerate.input>;

/**
 * The debate's generator. Any AgentLike can be a member; this one is a small composition of two
 * specialists: round 1 researches the task and writes a first draft, later rounds revise the previous
 * draft against the critiques. It keeps no state between rounds (everything comes in the handoff), so
 * it can run as one worker on a bus.
 */
export function drafter(
  options: { researcher?: AgentLike; writer?: AgentLike; name?: string } = {},
): AgentLike<GenerateInput, DebateCandidate> {
  const research = options.researcher ?? researcher();
  const write = options.writer ?? writer();
  const name = options.name ?? 'drafter';
  return {
    name,
    description: 'Writes a cited draft on the task (researching it first) and revises it against critiques.',
    async run(rawInput, runOptions: RunOptions = {}) {
      const started = performance.now();
      const runId = runOptions.runId ?? randomUUID();
      const { runId: _own, ...inherited } = runOptions;
      // The specialists run as children of this run: same budget, signal, events and trace.
      const child: RunOptions = { ...inherited, parentRunId: runId };
      const runs: RunResult[] = [];
      const finish = (output: DebateCandidate | undefined, error?: BatonError) =>
        combine(name, runId, runs, output, started, error);

      const input = debateGenerate.input.safeParse(rawInput);
      if (!input.success) {
        return finish(
          undefined,
          new BatonError('HANDOFF_INVALID', `${name}: invalid input: ${input.error.message}`),
        );
      }
      const { task, round, critiques } = input.data;
      const previous = candidateSchema.safeParse(input.data.previous);

      let base: Pick<WriteRequest, 'topic' | 'findings' | 'sources'>;
      if (previous.success) {
        base = {
          topic: previous.data.topic,
          findings: previous.data.findings,
          sources: previous.data.sources,
        };
      } else {
        const researched = await research.run({ topic: task }, child);
        runs.push(researched);
        const findings = researchFindingsSchema.safeParse(researched.output);
        if (!findings.success) return finish(undefined);
        base = {
          topic: findings.data.topic,
          findings: findings.data.findings,
          sources: findings.data.sources,
        };
      }
      const issues = previous.success ? issuesFrom(critiques ?? []) : [];
      const request: WriteRequest = previous.success
        ? { ...base, revision: { round: round - 1, issues, previousDraft: previous.data.draft } }
        : base;
      const written = await write.run(request, child);
      runs.push(written);
      const draft = draftSchema.safeParse(written.output);
      return finish(draft.success ? { ...base, draft: draft.data } : undefined);
    },
  };
}

/** The critics' plain-text issues as the writer's typed revision issues (each once). */
function issuesFrom(critiques: readonly (Critique & { perspective: string })[]): ReviewIssue[] {
  const seen = new Set<string>();
  const issues: ReviewIssue[] = [];
  for (const critique of critiques) {
    for (const text of critique.issues) {
      const problem = text.trim().slice(0, 1000);
      if (problem === '' || seen.has(problem)) continue;
      seen.add(problem);
      issues.push({
        severity: 'major',
        problem,
        suggestion: `Fix this (raised from the perspective of ${critique.perspective})`.slice(0, 1000),
      });
    }
  }
  return issues.slice(0, 50);
}

/** One RunResult for the drafter's own run, from its specialists' runs. */
function combine(
  agent: string,
  runId: string,
  runs: readonly RunResult[],
  output: DebateCandidate | undefined,
  started: number,
  error?: BatonError,
): RunResult<DebateCandidate> {
  const failed = runs.find((run) => run.status !== 'completed');
  const usage = emptyUsage();
  for (const run of runs) addUsage(usage, run.usage);
  const problem =
    error?.toJSON() ??
    failed?.error ??
    (output === undefined ? new BatonError('INTERNAL', `${agent}: no usable draft`).toJSON() : undefined);
  const last = runs.at(-1);
  const result: RunResult<DebateCandidate> = {
    status: problem ? (failed?.status ?? 'failed') : 'completed',
    output: problem ? undefined : output,
    partial: {
      summary: failed
        ? `${failed.agent} ended ${failed.status}: ${failed.partial.summary}`
        : problem
          ? problem.message
          : `${runs.map((run) => run.agent).join(' and ')} produced the draft`,
      toolResults: runs.flatMap((run) => run.partial.toolResults),
      missing: failed?.partial.missing ?? [],
    },
    steps: runs.reduce((sum, run) => sum + run.steps, 0),
    usage,
    costUsd: runs.reduce((sum, run) => sum + run.costUsd, 0),
    durationMs: performance.now() - started,
    runId,
    traceId: last?.traceId ?? '',
    spanId: last?.spanId ?? '',
    agent,
  };
  if (problem) result.error = problem;
  return result;
}
