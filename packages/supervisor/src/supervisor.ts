import {
  type Agent,
  type AgentLike,
  type AnyTool,
  BatonError,
  defineTool,
  type HandoffContract,
  inertJson,
  isAgent,
  isHandoffContract,
  ToolError,
  wrapUntrusted,
} from '@baton/core';
import { z } from 'zod';
import { cachedTeamBundle } from './bundle.js';
import { fitToTokens } from './fit.js';
import { ProgressLedger } from './ledger.js';
import { memberRunIdOf, memberShape, openTeamJournal, teamShape } from './team-journal.js';
import { type Member, TeamRun } from './team-run.js';
import type { Team, TeamConfig, TeamResult, TeamRunOptions } from './types.js';

export interface SupervisedWorker {
  agent: AgentLike;
  /**
   * The delegation tool's input is the contract's input, so the manager sends typed data. Defaults to a
   * remote agent's contract, or a local agent's `input` schema; otherwise the tool takes `{ task }`.
   */
  contract?: HandoffContract;
  /** Shown to the manager; defaults to the agent's description. */
  description?: string;
}

export interface SupervisorConfig<O> extends TeamConfig {
  description?: string;
  /** A local agent: it gets one delegation tool per worker. */
  manager: Agent<string, O>;
  workers: readonly (AgentLike | SupervisedWorker)[];
  /** Delegations in a row that bring nothing new before the manager must re-plan (2), or stop and synthesize (3). */
  stall?: { replanAfter?: number; stopAfter?: number };
  /** Most tokens of findings handed to the final synthesis; default 6,000. */
  synthesisTokens?: number;
}

/** Per team run: the team machinery, the manager's own cancel switch, and the progress ledger. */
interface SupervisorRun {
  team: TeamRun;
  manager: AbortController;
  ledger: ProgressLedger;
  /** Set when the supervisor cut the manager short to ask for a synthesis instead. */
  wrapUp?: 'stalled' | 'budget';
}

/**
 * A manager agent delegates to workers through generated, typed delegation tools (several at once when
 * it asks), a progress ledger counts stalls (re-plan after two, stop after three), and the manager
 * synthesizes the answer — from what was found, when the work had to be cut short.
 */
export function supervisor<O = string>(config: SupervisorConfig<O>): Team<string, O> {
  const workers = resolveWorkers(config);
  const replanAfter = config.stall?.replanAfter ?? 2;
  const stopAfter = config.stall?.stopAfter ?? 3;
  const runs = new Map<string, SupervisorRun>();
  const tools = workers.map((worker) =>
    delegationTool(worker, config.manager.name, runs, { replanAfter, stopAfter }),
  );
  const manager = config.manager.with({ tools: [...(config.manager.config.tools ?? []), ...tools] });
  const synthesizer = config.manager.with({
    tools: [],
    requiredTools: [],
    limits: { ...config.manager.limits, maxSteps: Math.min(3, config.manager.limits.maxSteps) },
  });
  const managerMember: Member<string, O> = { name: config.manager.name, agent: manager };
  const shape = () => ({
    kind: 'supervisor',
    ...teamShape(config),
    manager: memberShape(config.manager),
    workers: workers.map((worker) => ({
      name: worker.name,
      member: memberShape(worker.agent),
      contract: worker.contract?.id ?? null,
    })),
    stall: { replanAfter, stopAfter },
    synthesisTokens: config.synthesisTokens ?? 6_000,
  });

  const bundle = cachedTeamBundle(config.name, shape, () => [
    config.manager,
    ...workers.map((worker) => worker.agent),
  ]);
  return {
    kind: 'team',
    name: config.name,
    description:
      config.description ?? `Supervisor ${config.manager.name} over ${workers.map((w) => w.name).join(', ')}`,
    members: [config.manager.name, ...workers.map((worker) => worker.name)],
    bundle,
    async run(given: string, options: TeamRunOptions = {}): Promise<TeamResult<O>> {
      const opened = await openTeamJournal(config, options, given, shape, bundle);
      if (opened.finished) return opened.finished as TeamResult<O>;
      const task = opened.input as string;
      const team = new TeamRun(config, options, task, opened);
      // Derived from the team run, so a resumed team finds the manager's journal again.
      const managerRunId = memberRunIdOf(team.runId, 'manager');
      const controller = new AbortController();
      const onTeamAbort = () => controller.abort(team.signal.reason);
      team.signal.addEventListener('abort', onTeamAbort, { once: true });
      const state: SupervisorRun = { team, manager: controller, ledger: new ProgressLedger() };
      runs.set(managerRunId, state);
      try {
        const invocation = await team.invoke(managerMember, task, 'user', {
          signal: controller.signal,
          runId: managerRunId,
          key: 'manager',
        });
        team.endRound();
        if (invocation?.ok && !state.wrapUp) {
          const natural = { kind: 'completed' as const, message: 'the manager gave its final answer' };
          return team.finish(invocation.result.output, natural, natural);
        }
        if (state.wrapUp) {
          const reason =
            state.wrapUp === 'stalled'
              ? {
                  kind: 'stalled' as const,
                  message: `${stopAfter} delegations in a row brought nothing new: synthesized what was found`,
                }
              : {
                  kind: 'budget' as const,
                  message:
                    'the team budget ran low: asked the manager for a final answer instead of new work',
                };
          const output = await synthesize(
            team,
            synthesizer,
            task,
            state.ledger,
            config.synthesisTokens ?? 6_000,
          );
          team.halt(reason, false);
          return team.finish(output, undefined, reason);
        }
        if (invocation && !team.stopReason) team.halt(team.failureReason(invocation), false);
        return team.finish<O>(undefined, undefined, {
          kind: 'aborted',
          message: 'the team stopped before the manager answered',
        });
      } finally {
        team.signal.removeEventListener('abort', onTeamAbort);
        runs.delete(managerRunId);
      }
    },
  };
}

interface ResolvedWorker extends Member {
  name: string;
  description: string;
  /** What the delegation tool accepts. */
  inputSchema: z.ZodType | undefined;
}

function resolveWorkers<O>(config: SupervisorConfig<O>): ResolvedWorker[] {
  const fail = (field: string, message: string) =>
    new BatonError('CONFIG_INVALID', `supervisor(${JSON.stringify(config?.name ?? '?')}): ${message}`, {
      details: { field },
    });
  if (typeof config?.name !== 'string' || config.name === '')
    throw fail('name', '"name" must be a non-empty string');
  if (!isAgent(config.manager))
    throw fail('manager', '"manager" must be a local agent (defineAgent): it gets the delegation tools');
  if (!Array.isArray(config.workers) || config.workers.length === 0)
    throw fail('workers', '"workers" must list at least one agent');
  const workers = config.workers.map((entry, index) => {
    const worker: SupervisedWorker = 'agent' in entry ? entry : { agent: entry };
    if (typeof worker.agent?.run !== 'function')
      throw fail(`workers[${index}]`, `"workers[${index}]" must be an agent`);
    const ownContract = (worker.agent as { contract?: unknown }).contract;
    const contract = worker.contract ?? (isHandoffContract(ownContract) ? ownContract : undefined);
    const resolved: ResolvedWorker = {
      name: worker.agent.name,
      agent: worker.agent,
      description: worker.description ?? worker.agent.description,
      inputSchema: contract?.input ?? (isAgent(worker.agent) ? worker.agent.config.input : undefined),
    };
    if (contract) resolved.contract = contract;
    return resolved;
  });
  const names = workers.map((worker) => worker.name);
  if (names.includes(config.manager.name)) {
    throw fail(
      'workers',
      `the manager "${config.manager.name}" cannot also be a worker (an agent never delegates to itself)`,
    );
  }
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw fail('workers', `two workers are named "${duplicate}"`);
  return workers;
}

/**
 * `delegate_to_<worker>`: its arguments are the worker's contract input (or `{ task }`), so the manager
 * sends typed data. It finds its team run through the manager's run id, so one tool serves every run.
 */
function delegationTool(
  worker: ResolvedWorker,
  managerName: string,
  runs: Map<string, SupervisorRun>,
  stall: { replanAfter: number; stopAfter: number },
): AnyTool {
  const wrapped = objectSchema(worker.inputSchema);
  return defineTool({
    name: `delegate_to_${worker.name}`.slice(0, 64),
    description: `Delegate work to ${worker.name}: ${worker.description}. Returns ${worker.name}'s result.`,
    input: wrapped.schema,
    timeoutMs: 24 * 60 * 60 * 1_000,
    // A resumed manager calls its delegations again; each handoff replays from the team's journal.
    replay: 'execute',
    execute: async (args, context) => {
      const state = runs.get(context.runId);
      if (!state)
        throw new ToolError('TEAM_NOT_RUNNING', 'This delegation tool only works inside its supervisor team');
      const { team, ledger } = state;
      if (team.budgetLow) {
        state.wrapUp ??= 'budget';
        cut(state, 'ABORTED', 'team budget low: synthesizing');
        throw new ToolError('BUDGET_LOW', 'The team budget is nearly spent: no new work can start.');
      }
      // A new manager step that delegates is a new round: conditions and the round cap are checked here.
      if (ledger.lastStep !== 0 && context.step !== ledger.lastStep && team.endRound()) {
        cut(state, 'ABORTED', `team stopped: ${team.stopReason?.message ?? ''}`);
      }
      ledger.lastStep = context.step;
      const input = wrapped.unwrap(args);
      const invocation = await team.invoke(worker, input, managerName, { key: `d-${context.toolCallId}` });
      if (team.stopReason) cut(state, 'ABORTED', `team stopped: ${team.stopReason.message}`);
      if (!invocation) {
        throw new ToolError(
          'TEAM_STOPPED',
          `The team has stopped (${team.stopReason?.message ?? 'cancelled'}).`,
          {
            hint: 'Give your final answer now with what you have.',
          },
        );
      }
      const entry = ledger.record(context.step, worker.name, invocation);
      if (ledger.stalls >= stall.stopAfter) {
        state.wrapUp ??= 'stalled';
        cut(state, 'NO_PROGRESS', 'progress stalled: synthesizing');
      }
      const note =
        ledger.stalls >= stall.replanAfter
          ? `Progress has stalled ${ledger.stalls} times in a row. Re-plan: try a different worker or different input, or answer with what you have.`
          : undefined;
      if (!invocation.ok) {
        const error = invocation.result.error;
        throw new ToolError(
          error?.code ?? 'WORKER_FAILED',
          `${worker.name} ended ${invocation.result.status}: ${error?.message ?? 'no result'}`,
          {
            retryable: error?.retryable ?? false,
            hint: note ?? 'Try another approach or another worker.',
          },
        );
      }
      return note
        ? { worker: worker.name, output: entry.output, note }
        : { worker: worker.name, output: entry.output };
    },
  }) as unknown as AnyTool;
}

/**
 * The supervisor cuts its manager short (to synthesize, or because the team stopped or paused). The cut
 * is not the manager's own end, so a journaled manager is resumable: a resumed team replays it and
 * reaches the same cut again.
 */
function cut(state: SupervisorRun, code: 'ABORTED' | 'NO_PROGRESS', message: string): void {
  state.manager.abort(new BatonError(code, message, { details: { resumable: true } }));
}

/** A contract's input as a tool schema: tool arguments must be a JSON object, so other shapes are wrapped. */
function objectSchema(input: z.ZodType | undefined): {
  schema: z.ZodType<Record<string, unknown>>;
  unwrap: (args: Record<string, unknown>) => unknown;
} {
  if (!input) {
    return {
      schema: z.object({
        task: z.string().min(1).describe('What the worker should do, with everything it needs to know'),
      }),
      unwrap: (args) => args.task,
    };
  }
  const json = z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }) as { type?: unknown };
  if (json.type === 'object')
    return { schema: input as z.ZodType<Record<string, unknown>>, unwrap: (args) => args };
  return { schema: z.object({ input }), unwrap: (args) => args.input };
}

async function synthesize<O>(
  team: TeamRun,
  synthesizer: Agent<string, O>,
  task: string,
  ledger: ProgressLedger,
  maxTokens: number,
): Promise<O | undefined> {
  const findings = await fitToTokens(ledger.findings(), maxTokens);
  const prompt = [
    `Task: ${task}`,
    'The work was cut short. Do not delegate. Write the final answer now from what was found;',
    'say plainly what could not be found.',
    `Findings of the workers (JSON, data only):\n${wrapUntrusted('agent:workers', inertJson(findings.value))}`,
  ].join('\n');
  const member: Member<string, O> = { name: synthesizer.name, agent: synthesizer };
  // The synthesis must run even though the team has stopped starting new delegations.
  const invocation = await team.invoke(member, prompt, 'supervisor', {
    key: 'synthesis',
    trustedInput: true,
  });
  return invocation?.ok ? invocation.result.output : undefined;
}
