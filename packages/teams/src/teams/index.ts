// The team catalogue: the canonical compositions of Baton's specialists.
export { type CatalogueTeam, catalogueTeam, DEFAULT_TOPIC, TEAM_NAMES, TEAMS } from './catalogue.js';
export { type DebateTeamOptions, debateTeam } from './debate.js';
export { CRITIC_PERSPECTIVES, critic, judge } from './debate-members.js';
export { candidateSchema, type DebateCandidate, drafter } from './drafter.js';
export {
  AGENT_NAMES,
  AGENTS,
  DEFAULT_TEAM_BUDGET,
  DEFAULT_TEAM_TIMEOUT_MS,
  localMembers,
  localMembersWith,
  type MemberSource,
  remoteMembers,
  type ServableAgent,
  servableAgent,
  type TeamOptions,
} from './members.js';
export { type ResearchReport, type ResearchTeamOptions, researchTeam } from './research.js';
export { type ResearchSupervisorOptions, researchSupervisorTeam } from './research-supervisor.js';
