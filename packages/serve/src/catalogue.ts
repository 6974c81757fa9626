// The one place this package reaches the team and agent catalogue (@baton/teams).
import type { Bus } from '@baton/bus';
import { type AgentLike, BatonError, type HandoffContract } from '@baton/core';
import type { Team } from '@baton/supervisor';
import { AGENTS, remoteMembers, TEAMS, type TeamOptions } from '@baton/teams';

/** A team the gateway can run by name. */
export interface GatewayTeam {
  readonly name: string;
  readonly description: string;
  /** The agents it calls by name: the workers it needs when its members run over NATS. */
  readonly members: readonly string[];
  /** Builds the team; `members` gives it remote members instead of local ones. */
  create(options: { members?: (name: string) => AgentLike; timeoutMs?: number }): Team;
  /** The team's input for a plain-text topic (a request may send a string instead of the team's object). */
  fromTopic(topic: string): unknown;
}

/** An agent the gateway can run by name. */
export interface GatewayAgent {
  readonly name: string;
  readonly description: string;
  /** Its handoff contract: the input is checked against it before the run starts (422 otherwise). */
  readonly contract: HandoffContract;
  create(): AgentLike;
}

/** What the gateway serves. The CLI's catalogue by default; tests and embedders pass their own. */
export interface Catalogue {
  readonly teams: Readonly<Record<string, GatewayTeam>>;
  readonly agents: Readonly<Record<string, GatewayAgent>>;
}

/** The catalogue `baton run` and `baton worker` use: the same names, the same builds. */
export function defaultCatalogue(): Catalogue {
  const teams: Record<string, GatewayTeam> = {};
  for (const [name, entry] of Object.entries(TEAMS)) {
    teams[name] = {
      name,
      description: entry.description,
      members: entry.members,
      create: (options) => entry.create(options as TeamOptions),
      fromTopic: (topic) => entry.input(topic),
    };
  }
  const agents: Record<string, GatewayAgent> = {};
  for (const [name, entry] of Object.entries(AGENTS)) {
    agents[name] = { name, description: entry.description, contract: entry.contract, create: entry.create };
  }
  return { teams, agents };
}

/** Members that are workers on `bus` (what `baton run --nats` uses), by the catalogue's names and contracts. */
export function remoteMemberSource(bus: Bus, namespace: string): (name: string) => AgentLike {
  return remoteMembers(bus, { namespace });
}

export function findTeam(catalogue: Catalogue, name: string): GatewayTeam {
  const team = Object.hasOwn(catalogue.teams, name) ? catalogue.teams[name] : undefined;
  if (!team) {
    throw new BatonError('TEAM_UNKNOWN', `Unknown team "${name}"`, {
      hint: `Valid teams: ${Object.keys(catalogue.teams).join(', ')} (GET /v1/teams)`,
      details: { team: name, valid: Object.keys(catalogue.teams) },
    });
  }
  return team;
}

export function findAgent(catalogue: Catalogue, name: string): GatewayAgent {
  const agent = Object.hasOwn(catalogue.agents, name) ? catalogue.agents[name] : undefined;
  if (!agent) {
    throw new BatonError('AGENT_UNKNOWN', `Unknown agent "${name}"`, {
      hint: `Valid agents: ${Object.keys(catalogue.agents).join(', ')} (GET /v1/agents)`,
      details: { agent: name, valid: Object.keys(catalogue.agents) },
    });
  }
  return agent;
}
