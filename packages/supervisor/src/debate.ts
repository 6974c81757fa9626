import { type AgentLike, BatonError, defineHandoff } from '@baton/core';
import { z } from 'zod';
import { cachedTeamBundle } from './bundle.js';
import { memberShape, openTeamJournal, teamShape } from './team-journal.js';
import { type Member, TeamRun } from './team-run.js';
import type { StopReason, Team, TeamConfig, TeamResult, TeamRunOptions } from './types.js';

export const critiqueSchema = z.object({
  approve: z.boolean().describe('true when the candidate is good enough from your perspective'),
  issues: z
    .array(z.string())
    .describe('Concrete problems to fix, most important first; empty when approving'),
  summary: z.string().optional(),
});
export type Critique = z.infer<typeof critiqueSchema>;

export const debateVerdictSchema = z.object({
  approve: z.boolean(),
  reason: z.string(),
});
export type DebateVerdict = z.infer<typeof debateVerdictSchema>;

/** What the generator receives each round: the task, and from round 2 its previous answer and the critiques. */
export const debateGenerate = defineHandoff({
  name: 'debate.generate',
  version: 1,
  description: 'Write (or revise) an answer to the task, addressing every critique.',
  input: z.object({
    task: z.string(),
    round: z.number().int().positive(),
    previous: z.unknown().optional(),
    critiques: z.array(critiqueSchema.extend({ perspective: z.string() })).optional(),
  }),
  output: z.unknown(),
});

/** What each critic receives: the candidate and the one perspective it judges from. */
export const debateCritique = defineHandoff({
  name: 'debate.critique',
  version: 1,
  description: 'Critique the candidate strictly from your perspective.',
  input: z.object({
    task: z.string(),
    round: z.number().int().positive(),
    candidate: z.unknown(),
    perspective: z.string(),
  }),
  output: critiqueSchema,
});

export const debateJudge = defineHandoff({
  name: 'debate.judge',
  version: 1,
  description: 'Decide whether the candidate is ready, weighing the critiques.',
  input: z.object({
    task: z.string(),
    round: z.number().int().positive(),
    candidate: z.unknown(),
    critiques: z.array(critiqueSchema.extend({ perspective: z.string() })),
  }),
  output: debateVerdictSchema,
});

export interface DebateCritic {
  agent: AgentLike;
  /** The one angle this critic judges from; critics must differ. */
  perspective: string;
}

export interface DebateConfig extends TeamConfig {
  description?: string;
  generator: AgentLike;
  critics: readonly (AgentLike | DebateCritic)[];
  /** Decides when present; otherwise the candidate passes when every critic approves. */
  judge?: AgentLike;
  /** Rounds before the debate ends unapproved. */
  maxRounds: number;
  /** True when two consecutive candidates are materially the same; default: word-level similarity ≥ 0.95. */
  converged?: (previous: unknown, current: unknown) => boolean;
}

const DEFAULT_PERSPECTIVES = [
  'correctness: facts, evidence and logic',
  'the reader: clarity, structure and usefulness',
  'risk: what is missing, what could go wrong, unstated assumptions',
  'brevity: what can be cut without loss',
];

/**
 * A generator writes, critics with explicitly different perspectives critique in parallel, an optional
 * judge decides. It ends when the candidate is approved, when it stops changing (converged), or at the
 * round limit — and says which.
 */
export function debate(config: DebateConfig): Team<string | { task: string }, unknown> {
  const { generator, critics, judge } = resolve(config);
  const converged = config.converged ?? similarEnough;
  const shape = () => ({
    kind: 'debate',
    ...teamShape(config),
    generator: memberShape(generator.agent),
    critics: critics.map((critic) => ({
      member: memberShape(critic.agent),
      perspective: critic.perspective,
    })),
    judge: judge ? memberShape(judge.agent) : null,
    maxRounds: config.maxRounds,
  });
  const bundle = cachedTeamBundle(config.name, shape, () => [
    generator.agent,
    ...critics.map((critic) => critic.agent),
    ...(judge ? [judge.agent] : []),
  ]);
  return {
    kind: 'team',
    name: config.name,
    description:
      config.description ?? `Debate: ${generator.name} vs ${critics.map((c) => c.name).join(', ')}`,
    members: [generator.name, ...critics.map((c) => c.name), ...(judge ? [judge.name] : [])],
    bundle,
    async run(given, options: TeamRunOptions = {}): Promise<TeamResult<unknown>> {
      // The debate enforces its own round limit (with its own stop message), so the generic cap is off.
      const { maxRounds: _ownLimit, ...teamConfig } = config;
      const opened = await openTeamJournal(teamConfig, options, given, shape, bundle);
      if (opened.finished) return opened.finished;
      const input = opened.input as string | { task: string };
      const task = typeof input === 'string' ? input : input.task;
      const team = new TeamRun(teamConfig, options, input, opened);
      let candidate: unknown;
      let critiques: (Critique & { perspective: string })[] | undefined;
      let outcome: StopReason | undefined;
      for (let round = 1; !team.stopped; round++) {
        const generated = await team.invoke(
          generator,
          { task, round, ...(round > 1 ? { previous: candidate, critiques } : {}) },
          round === 1 ? 'user' : 'critics',
        );
        if (!generated) break;
        if (!generated.ok) {
          team.halt(team.failureReason(generated), false);
          break;
        }
        const previous = candidate;
        candidate = generated.result.output;
        if (round > 1 && converged(previous, candidate)) {
          outcome = {
            kind: 'converged',
            message: `the candidate did not change materially in round ${round}`,
          };
          break;
        }
        const reviews = await Promise.all(
          critics.map((critic) =>
            team.invoke(critic, { task, round, candidate, perspective: critic.perspective }, generator.name),
          ),
        );
        const failed = reviews.find((review) => review !== undefined && !review.ok);
        if (failed) {
          team.halt(team.failureReason(failed), false);
          break;
        }
        if (reviews.some((review) => review === undefined)) break;
        critiques = reviews.map((review, index) => ({
          ...(review?.result.output as Critique),
          perspective: (critics[index] as ResolvedCritic).perspective,
        }));
        let approved = critiques.every((critique) => critique.approve);
        if (judge) {
          const verdict = await team.invoke(judge, { task, round, candidate, critiques }, 'critics');
          if (!verdict) break;
          if (!verdict.ok) {
            team.halt(team.failureReason(verdict), false);
            break;
          }
          approved = (verdict.result.output as DebateVerdict).approve;
        }
        if (approved) {
          outcome = {
            kind: 'approved',
            message: `approved in round ${round}${judge ? ` by ${judge.name}` : ' by every critic'}`,
          };
          break;
        }
        if (team.endRound()) break;
        if (round >= config.maxRounds) {
          team.halt({ kind: 'max_rounds', message: `no approval after ${config.maxRounds} rounds` }, false);
          break;
        }
        if (team.budgetLow) {
          team.halt(
            { kind: 'budget', message: 'the team budget is nearly spent: kept the latest candidate' },
            false,
          );
          break;
        }
      }
      if (outcome) {
        team.endRound();
        return team.finish(candidate, outcome, outcome);
      }
      const reason = team.stopReason;
      const output =
        reason?.kind === 'member_failed' || reason?.kind === 'handoff_invalid' ? undefined : candidate;
      return team.finish(output, undefined, { kind: 'aborted', message: 'the debate stopped' });
    },
  };
}

interface ResolvedCritic extends Member {
  name: string;
  perspective: string;
}

function resolve(config: DebateConfig): {
  generator: Member & { name: string };
  critics: ResolvedCritic[];
  judge?: Member & { name: string };
} {
  const fail = (field: string, message: string) =>
    new BatonError('CONFIG_INVALID', `debate(${JSON.stringify(config?.name ?? '?')}): ${message}`, {
      details: { field },
    });
  if (typeof config?.name !== 'string' || config.name === '')
    throw fail('name', '"name" must be a non-empty string');
  if (typeof config.generator?.run !== 'function') throw fail('generator', '"generator" must be an agent');
  if (!Array.isArray(config.critics) || config.critics.length === 0)
    throw fail('critics', '"critics" must list at least one agent');
  if (!Number.isInteger(config.maxRounds) || config.maxRounds < 1)
    throw fail('maxRounds', '"maxRounds" must be an integer ≥ 1');
  const critics = config.critics.map((entry, index): ResolvedCritic => {
    const critic: DebateCritic =
      'agent' in entry
        ? entry
        : { agent: entry, perspective: DEFAULT_PERSPECTIVES[index % DEFAULT_PERSPECTIVES.length] as string };
    if (typeof critic.agent?.run !== 'function')
      throw fail(`critics[${index}]`, `"critics[${index}]" must be an agent`);
    return {
      name: critic.agent.name,
      agent: critic.agent,
      contract: debateCritique,
      perspective: critic.perspective,
    };
  });
  const perspectives = critics.map((critic) => critic.perspective.trim().toLowerCase());
  if (new Set(perspectives).size !== perspectives.length) {
    throw fail('critics', 'critics must judge from different perspectives (two share one)');
  }
  const names = [
    config.generator.name,
    ...critics.map((c) => c.name),
    ...(config.judge ? [config.judge.name] : []),
  ];
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw fail('critics', `"${duplicate}" appears twice; every member needs its own name`);
  const generator = { name: config.generator.name, agent: config.generator, contract: debateGenerate };
  const judge = config.judge
    ? { name: config.judge.name, agent: config.judge, contract: debateJudge }
    : undefined;
  return judge ? { generator, critics, judge } : { generator, critics };
}

/** Word-level Jaccard similarity of the two candidates' text ≥ 0.95. */
export function similarEnough(previous: unknown, current: unknown): boolean {
  const words = (value: unknown) =>
    new Set(
      (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).toLowerCase().match(/[a-z0-9]+/g) ??
        [],
    );
  const a = words(previous);
  const b = words(current);
  if (a.size === 0 && b.size === 0) return true;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return shared / (a.size + b.size - shared) >= 0.95;
}
