import { type AgentLike, BatonError, type HandoffContract } from '@baton/core';
import { cachedTeamBundle } from './bundle.js';
import { fitToTokens } from './fit.js';
import { memberShape, openTeamJournal, teamShape } from './team-journal.js';
import { type Member, TeamRun } from './team-run.js';
import type { StopReason, Team, TeamConfig, TeamResult, TeamRunOptions } from './types.js';

export interface PipelineContext<I = unknown> {
  /** The team's input. */
  input: I;
  /** The latest output of every stage that ran, by stage name. */
  outputs: Record<string, unknown>;
  /** Every output of every stage, oldest first (a revised stage has several). */
  history: Record<string, unknown[]>;
  /** The output of the stage that ran last (the team input before the first stage). */
  previous: unknown;
  /** 1 on the first pass, +1 every time the loop goes back. */
  round: number;
}

export interface PipelineStage<I = unknown> {
  agent: AgentLike;
  /** Defaults to the agent's name. */
  name?: string;
  /** Validates what this stage receives (the previous stage's output, as built by `input`) and returns. */
  contract?: HandoffContract;
  /** Builds this stage's input; by default the previous stage's output (the team input for the first). */
  input?: (context: PipelineContext<I>) => unknown;
}

export interface PipelineLoop<I = unknown> {
  /** The stage whose output decides, e.g. the reviewer. */
  after: string;
  /** The earlier stage to go back to, e.g. the writer. */
  to: string;
  /** True to go back (e.g. the verdict says "revise"). */
  when: (output: unknown, context: PipelineContext<I>) => boolean;
  /** Times the loop may go back; default 2. */
  maxRounds?: number;
}

export interface PipelineConfig<I, O> extends TeamConfig {
  description?: string;
  stages: readonly PipelineStage<I>[];
  loop?: PipelineLoop<I>;
  /** The team's answer; by default the last stage's output. */
  output?: (context: PipelineContext<I>) => O;
  /** Most tokens one handoff may carry; larger inputs are shortened field by field. Default 8,000. */
  contextTokens?: number;
}

/**
 * Stages run in order, each handing typed data to the next: stage A's output is validated as stage B's
 * input. An optional bounded loop sends work back (review → revise). Handoffs are held to a token budget,
 * so context never grows without bound.
 */
export function pipeline<I = unknown, O = unknown>(config: PipelineConfig<I, O>): Team<I, O> {
  const stages = validate(config);
  const names = stages.map((stage) => stage.name);
  const loop = config.loop;
  const loopFrom = loop ? names.indexOf(loop.to) : -1;
  const contextTokens = config.contextTokens ?? 8_000;
  const shape = () => ({
    kind: 'pipeline',
    ...teamShape(config),
    stages: stages.map((stage) => ({
      name: stage.name,
      member: memberShape(stage.agent),
      contract: stage.contract?.id ?? null,
    })),
    loop: loop ? { after: loop.after, to: loop.to, maxRounds: loop.maxRounds ?? 2 } : null,
    contextTokens,
  });

  const bundle = cachedTeamBundle(config.name, shape, () => stages.map((stage) => stage.agent));
  return {
    kind: 'team',
    name: config.name,
    description: config.description ?? `Pipeline ${names.join(' → ')}`,
    members: names,
    bundle,
    async run(given: I, options: TeamRunOptions = {}): Promise<TeamResult<O>> {
      const opened = await openTeamJournal(config, options, given, shape, bundle);
      if (opened.finished) return opened.finished as TeamResult<O>;
      const input = opened.input as I;
      const team = new TeamRun(config, options, input, opened);
      const context: PipelineContext<I> = { input, outputs: {}, history: {}, previous: input, round: 1 };
      let index = 0;
      let from = 'user';
      let loops = 0;
      let finished = false;
      for (;;) {
        // Work that finished is reported as finished, even when a stop came with its last step.
        if (index >= stages.length) {
          finished = true;
          team.endRound();
          break;
        }
        if (team.stopped) break;
        const stage = stages[index] as ResolvedStage<I>;
        const built = stage.input ? stage.input(context) : context.previous;
        const fitted = await fitToTokens(built, contextTokens);
        const invocation = await team.invoke(stage, fitted.value, from, { compacted: fitted.compacted });
        if (!invocation) break;
        if (!invocation.ok) {
          team.halt(team.failureReason(invocation), false);
          break;
        }
        const output = invocation.result.output;
        context.outputs[stage.name] = output;
        context.history[stage.name] = [...(context.history[stage.name] ?? []), output];
        context.previous = output;
        from = stage.name;
        index++;
        if (!loop || stage.name !== loop.after || !loop.when(output, context)) continue;
        const limit = loop.maxRounds ?? 2;
        if (loops >= limit) {
          team.halt(
            {
              kind: 'max_rounds',
              agent: stage.name,
              message: `the loop went back ${limit} times without passing`,
            },
            false,
          );
          break;
        }
        if (team.endRound()) break;
        if (team.budgetLow) {
          team.halt(
            {
              kind: 'budget',
              message: 'the team budget is nearly spent: kept the latest output instead of another round',
            },
            false,
          );
          break;
        }
        loops++;
        context.round++;
        index = loopFrom;
      }
      const natural: StopReason | undefined = finished
        ? { kind: 'completed', message: `all ${stages.length} stages completed` }
        : undefined;
      const reason = natural ?? team.stopReason;
      const hasOutput = Object.keys(context.outputs).length > 0;
      const withheld =
        reason?.kind === 'handoff_invalid' ||
        reason?.kind === 'member_failed' ||
        reason?.kind === 'awaiting_approval';
      const output = hasOutput && !withheld ? teamOutput(config, context) : undefined;
      return team.finish(output, natural, { kind: 'aborted', message: 'the pipeline stopped' });
    },
  };
}

type ResolvedStage<I> = PipelineStage<I> & Member & { name: string };

function teamOutput<I, O>(config: PipelineConfig<I, O>, context: PipelineContext<I>): O {
  return config.output ? config.output(context) : (context.previous as O);
}

function validate<I, O>(config: PipelineConfig<I, O>): ResolvedStage<I>[] {
  const fail = (field: string, message: string) =>
    new BatonError('CONFIG_INVALID', `pipeline(${JSON.stringify(config?.name ?? '?')}): ${message}`, {
      details: { field },
    });
  if (typeof config?.name !== 'string' || config.name === '')
    throw fail('name', '"name" must be a non-empty string');
  if (!Array.isArray(config.stages) || config.stages.length === 0)
    throw fail('stages', '"stages" must list at least one stage');
  const stages = config.stages.map((stage, index) => {
    if (typeof stage?.agent?.run !== 'function') {
      throw fail(`stages[${index}].agent`, `"stages[${index}].agent" must be an agent (local or remote)`);
    }
    return { ...stage, name: stage.name ?? stage.agent.name } as ResolvedStage<I>;
  });
  const names = stages.map((stage) => stage.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw fail('stages', `two stages are named "${duplicate}"; give one a "name"`);
  if (config.loop) {
    const after = names.indexOf(config.loop.after);
    const to = names.indexOf(config.loop.to);
    if (after === -1) throw fail('loop.after', `"loop.after" must name a stage (${names.join(', ')})`);
    if (to === -1 || to > after)
      throw fail('loop.to', `"loop.to" must name a stage at or before "${config.loop.after}"`);
    const rounds = config.loop.maxRounds;
    if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 0)) {
      throw fail('loop.maxRounds', '"loop.maxRounds" must be an integer ≥ 0');
    }
  }
  if (config.contextTokens !== undefined && !(config.contextTokens > 0)) {
    throw fail('contextTokens', '"contextTokens" must be a positive number');
  }
  return stages;
}
