import { researchContract, researcher, reviewContract, reviewer, writeContract, writer } from '@baton/agents';
import { type Bus, remoteAgent } from '@baton/bus';
import { type AgentLike, BatonError, type BudgetLimits, type HandoffContract } from '@baton/core';
import { debateCritique, debateGenerate, debateJudge } from '@baton/supervisor';
import { critic, judge } from './debate-members.js';
import { drafter } from './drafter.js';

/**
 * Gives a team its member by name. The default builds local specialists; `remoteMembers(bus)` gives
 * proxies to workers on a bus instead. The team code is the same either way.
 */
export type MemberSource = (name: string) => AgentLike;

/** What every team factory of the catalogue accepts. */
export interface TeamOptions {
  /** Where members come from; default `localMembers` (in this process). */
  members?: MemberSource;
  /** A real timer for the whole team: in-flight members, local or remote, are cancelled. Default 120 s. */
  timeoutMs?: number;
  /** One ledger shared by every member, across processes. Default 400k tokens and $1. */
  budget?: BudgetLimits;
  /**
   * How the local researcher works: `react` (default) step by step, `plan-execute` a validated plan
   * first. Remote members are as their workers built them.
   */
  planner?: 'react' | 'plan-execute';
}

export const DEFAULT_TEAM_TIMEOUT_MS = 120_000;
export const DEFAULT_TEAM_BUDGET: Readonly<BudgetLimits> = Object.freeze({
  maxTokens: 400_000,
  maxCostUsd: 1,
});

/** An agent a worker can serve: its handoff contract, and how to build it. */
export interface ServableAgent {
  contract: HandoffContract;
  description: string;
  create(): AgentLike;
}

/**
 * Every agent the catalogue's teams use, by name. `baton worker <name>` and the distributed example
 * serve them; `remoteMembers` calls them by the same name and contract.
 */
export const AGENTS: Readonly<Record<string, ServableAgent>> = Object.freeze({
  researcher: {
    contract: researchContract as HandoffContract,
    description: 'searches and reads the corpus, returns cited findings',
    create: () => researcher(),
  },
  writer: {
    contract: writeContract as HandoffContract,
    description: 'writes (or revises) a cited draft from findings',
    create: () => writer(),
  },
  reviewer: {
    contract: reviewContract as HandoffContract,
    description: 'reviews a draft with a rubric: approve or revise',
    create: () => reviewer(),
  },
  drafter: {
    contract: debateGenerate as HandoffContract,
    description: 'debate generator: researches the task, writes and revises a draft',
    create: () => drafter(),
  },
  'fact-checker': {
    contract: debateCritique as HandoffContract,
    description: 'debate critic judging the evidence',
    create: () => critic('fact-checker'),
  },
  editor: {
    contract: debateCritique as HandoffContract,
    description: 'debate critic judging for the reader',
    create: () => critic('editor'),
  },
  judge: {
    contract: debateJudge as HandoffContract,
    description: 'debate judge: approves the candidate or not',
    create: () => judge(),
  },
});

export const AGENT_NAMES: readonly string[] = Object.keys(AGENTS);

/** The catalogue entry for `name`, or a CONFIG_INVALID error that lists the valid names. */
export function servableAgent(name: string): ServableAgent {
  const entry = Object.hasOwn(AGENTS, name) ? AGENTS[name] : undefined;
  if (!entry) {
    throw new BatonError('AGENT_UNKNOWN', `Unknown agent "${name}"`, {
      hint: `Valid agents: ${AGENT_NAMES.join(', ')}`,
      details: { agent: name, valid: AGENT_NAMES },
    });
  }
  return entry;
}

/** Members built in this process (each call builds a fresh agent). */
export const localMembers: MemberSource = (name) => servableAgent(name).create();

/** Local members with the researcher planning first (`planner: 'plan-execute'`), or as they are. */
export function localMembersWith(options: Pick<TeamOptions, 'planner'>): MemberSource {
  if (options.planner !== 'plan-execute') return localMembers;
  return (name) => (name === 'researcher' ? researcher({ planner: 'plan-execute' }) : localMembers(name));
}

/** Members that are workers on `bus`: the same names and contracts, run elsewhere. */
export function remoteMembers(
  bus: Bus,
  options: { namespace?: string; timeoutMs?: number } = {},
): MemberSource {
  return (name) => {
    const { contract, create } = servableAgent(name);
    return remoteAgent(bus, {
      name,
      contract,
      // The same description as the agent itself, so a manager sees the same workers locally and remotely.
      description: create().description,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      timeoutMs: options.timeoutMs ?? DEFAULT_TEAM_TIMEOUT_MS,
    });
  };
}
