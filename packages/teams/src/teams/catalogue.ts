import { BatonError } from '@baton/core';
import type { Team } from '@baton/supervisor';
import { debateTeam } from './debate.js';
import type { TeamOptions } from './members.js';
import { researchTeam } from './research.js';
import { researchSupervisorTeam } from './research-supervisor.js';

/** A team of the catalogue, as `baton run <name>` and the examples use it. */
export interface CatalogueTeam {
  name: string;
  description: string;
  /** The agents the team calls by name: the workers it needs when it runs over a bus. */
  members: readonly string[];
  create(options?: TeamOptions): Team;
  /** The team's input for a topic. */
  input(topic: string): unknown;
}

export const DEFAULT_TOPIC = 'retries, timeouts and budgets for AI agents in production';

export const TEAMS: Readonly<Record<string, CatalogueTeam>> = Object.freeze({
  research: {
    name: 'research',
    description: 'research → write → review pipeline with a bounded revise loop',
    members: ['researcher', 'writer', 'reviewer'],
    create: (options?: TeamOptions) => researchTeam(options) as Team,
    input: (topic: string) => ({ topic }),
  },
  'research-supervisor': {
    name: 'research-supervisor',
    description: 'a manager delegating to the researcher, writer and reviewer',
    members: ['researcher', 'writer', 'reviewer'],
    create: (options?: TeamOptions) => researchSupervisorTeam(options) as Team,
    input: (topic: string) => topic,
  },
  debate: {
    name: 'debate',
    description: 'a drafter, two critics (evidence, reader) and a judge',
    members: ['drafter', 'fact-checker', 'editor', 'judge'],
    create: (options?: TeamOptions) => debateTeam(options) as Team,
    input: (topic: string) => ({ task: topic }),
  },
});

export const TEAM_NAMES: readonly string[] = Object.keys(TEAMS);

/** The catalogue entry for `name`, or a CONFIG_INVALID error that lists the valid names. */
export function catalogueTeam(name: string): CatalogueTeam {
  const entry = Object.hasOwn(TEAMS, name) ? TEAMS[name] : undefined;
  if (!entry) {
    throw new BatonError('CONFIG_INVALID', `Unknown team "${name}"`, {
      hint: `Valid teams: ${TEAM_NAMES.join(', ')} (or a path to a module that exports a team)`,
      details: { team: name, valid: TEAM_NAMES },
    });
  }
  return entry;
}
