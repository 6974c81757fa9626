import { modelForRole, OFFLINE_ROLES, type OfflineRole, researcher, writer } from '@baton/agents';
import {
  type Agent,
  type AgentLike,
  BatonError,
  EventHub,
  type InstructionsFunction,
  isAgent,
  type Model,
  type RunEvent,
  type Usage,
} from '@baton/core';
import type { TeamEvent } from '@baton/supervisor';
import { catalogueTeam, drafter, localMembersWith, servableAgent, type TeamOptions } from '@baton/teams';
import type { MemberHooks } from './session.js';
import type { Variant } from './variant.js';

/** A tool call a run made, as the checks see it. */
export interface ToolCallRecord {
  agent: string;
  tool: string;
  args: unknown;
  ok: boolean;
  /** The failure code when it did not succeed. */
  code?: string;
}

/** What one run of a variant produced: the figures every report shows, the output and the tool calls. */
export interface TargetRun {
  runId: string;
  status: string;
  output: unknown;
  /** Why it stopped, when it did not complete. */
  reason?: string;
  steps: number;
  rounds: number;
  usage: Usage;
  /** Dollars; null when some step had no price (unknown, not zero). */
  costUsd: number | null;
  latencyMs: number;
  toolCalls: ToolCallRecord[];
  /** The team's handoff transcript (or the agent's single run), for comparing replays. */
  transcript: { from: string; to: string; round: number; status: string; output?: unknown }[];
}

export interface RunVariantOptions {
  hooks?: MemberHooks;
  signal?: AbortSignal;
  runId?: string;
}

/** Which offline role plays each catalogue member when a variant names a model. */
const MEMBER_ROLES: Readonly<Record<string, OfflineRole>> = {
  researcher: 'researcher',
  writer: 'writer',
  reviewer: 'reviewer',
  drafter: 'writer',
  'fact-checker': 'critic',
  editor: 'critic',
  judge: 'judge',
  manager: 'manager',
};

/** The model a variant gives a member: its `model` spec (as BATON_MODEL), else the member's own. */
export function modelFor(variant: Pick<Variant, 'model'>, member: string, own?: Model): Model {
  if (variant.model === undefined && own) return own;
  const role = roleOf(member, own);
  if (variant.model === undefined) return modelForRole(role);
  return modelForRole(role, { env: { ...process.env, BATON_MODEL: variant.model } });
}

function roleOf(member: string, own: Model | undefined): OfflineRole {
  const fromId = own?.provider === 'offline' ? own.id.split('/').at(-1) : undefined;
  if (fromId && (OFFLINE_ROLES as readonly string[]).includes(fromId)) return fromId as OfflineRole;
  const role = MEMBER_ROLES[member];
  if (role) return role;
  throw new BatonError('EVAL_SUITE_INVALID', `No model role is known for member "${member}"`, {
    hint: 'Leave "model" unset for this variant: the member keeps its own model.',
  });
}

/** A member as the variant wants it: its model, instructions and limits, wrapped by the hooks. */
export function customizeMember(member: AgentLike, variant: Variant, hooks?: MemberHooks): AgentLike {
  if (!isAgent(member)) return member;
  const agent = member as Agent;
  const name = agent.name;
  const model = modelFor(variant, name, agent.config.model);
  const instructions = variant.instructions?.[name];
  const limits = variant.limits?.[name];
  return agent.with({
    model: hooks ? hooks.model(name, model) : model,
    ...(hooks && agent.config.tools
      ? { tools: agent.config.tools.map((tool) => hooks.tool(name, tool)) }
      : {}),
    ...(instructions !== undefined
      ? { instructions: instructionsOf(agent.config.instructions, instructions) }
      : {}),
    ...(limits !== undefined ? { limits: { ...agent.config.limits, ...limits } } : {}),
  });
}

function instructionsOf(
  own: string | InstructionsFunction<unknown>,
  override: string | { append: string },
): string | InstructionsFunction<unknown> {
  if (typeof override === 'string') return override;
  if (typeof own === 'string') return `${own}\n\n${override.append}`;
  return (context) => `${own(context)}\n\n${override.append}`;
}

/** The run's input for a case: its `input`, or the target's input for its `topic`. */
export function inputFor(variant: Variant, c: { topic?: string | undefined; input?: unknown }): unknown {
  if (c.input !== undefined) return c.input;
  const topic = c.topic ?? '';
  return variant.team !== undefined ? catalogueTeam(variant.team).input(topic) : { topic };
}

/** Runs one variant once on one input, collecting the tool calls from the run's events. */
export async function runVariant(
  variant: Variant,
  input: unknown,
  options: RunVariantOptions = {},
): Promise<TargetRun> {
  const events = new EventHub<RunEvent | TeamEvent>();
  const starts = new Map<string, { agent: string; tool: string; args: unknown }>();
  const toolCalls: ToolCallRecord[] = [];
  events.on('tool.start', (event) => {
    starts.set(`${event.runId}/${event.toolCallId}`, {
      agent: event.agent,
      tool: event.tool,
      args: event.args,
    });
  });
  events.on('tool.end', (event) => {
    const started = starts.get(`${event.runId}/${event.toolCallId}`);
    toolCalls.push({
      agent: event.agent,
      tool: event.tool,
      args: started?.args,
      ok: event.result.ok,
      ...(event.result.ok ? {} : { code: event.result.error.code }),
    });
  });
  const runOptions = {
    events,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
  };
  if (variant.agent !== undefined) {
    const agent = customizeMember(servableAgent(variant.agent).create(), variant, options.hooks);
    checkMembers(variant, [agent.name]);
    const result = await agent.run(input, runOptions);
    return {
      runId: result.runId,
      status: result.status,
      output: result.output,
      ...(result.error ? { reason: result.error.message } : {}),
      steps: result.steps,
      rounds: 1,
      usage: result.usage,
      costUsd: result.unpriced ? null : result.costUsd,
      latencyMs: Math.round(result.durationMs),
      toolCalls,
      transcript: [{ from: 'eval', to: agent.name, round: 1, status: result.status, output: result.output }],
    };
  }
  const entry = catalogueTeam(variant.team as string);
  const base = localMembersWith(variant.options ?? {});
  const teamOptions: TeamOptions & { maxRevisions?: number; managerModel?: Model } = {
    ...(variant.options ?? {}),
    members: (name) =>
      // The debate's drafter composes a researcher and a writer: reach into it so they are the variant's too.
      name === 'drafter'
        ? drafter({
            researcher: customizeMember(researcher(), variant, options.hooks),
            writer: customizeMember(writer(), variant, options.hooks),
          })
        : customizeMember(base(name), variant, options.hooks),
  };
  if (entry.name === 'research-supervisor') {
    const manager = modelFor(variant, 'manager');
    teamOptions.managerModel = options.hooks ? options.hooks.model('manager', manager) : manager;
  }
  const team = entry.create(teamOptions);
  checkMembers(variant, [
    ...team.members,
    ...(entry.name === 'research-supervisor' ? ['manager'] : []),
    ...(team.members.includes('drafter') ? ['researcher', 'writer'] : []),
  ]);
  const result = await team.run(input, runOptions);
  return {
    runId: result.runId,
    status: result.status,
    output: result.output,
    ...(result.status === 'completed' ? {} : { reason: result.stopReason.message }),
    steps: Object.values(result.members).reduce((sum, member) => sum + member.steps, 0),
    rounds: result.rounds,
    usage: result.usage,
    costUsd: result.unpriced ? null : result.costUsd,
    latencyMs: Math.round(result.durationMs),
    toolCalls,
    transcript: result.transcript.map((handoff) => ({
      from: handoff.from,
      to: handoff.to,
      round: handoff.round,
      status: handoff.status,
      ...(handoff.output !== undefined ? { output: handoff.output } : {}),
    })),
  };
}

/** Instructions or limits for a member the target does not have are a mistake, not a no-op. */
function checkMembers(variant: Variant, members: readonly string[]): void {
  for (const field of ['instructions', 'limits'] as const) {
    for (const name of Object.keys(variant[field] ?? {})) {
      if (!members.includes(name)) {
        throw new BatonError(
          'EVAL_SUITE_INVALID',
          `The variant sets ${field} for "${name}", which is not a member`,
          {
            hint: `Members: ${members.join(', ')}`,
          },
        );
      }
    }
  }
}
