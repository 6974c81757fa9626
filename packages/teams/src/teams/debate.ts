import { debate, type Team, timeout } from '@baton/supervisor';
import { CRITIC_PERSPECTIVES } from './debate-members.js';
import type { DebateCandidate } from './drafter.js';
import { DEFAULT_TEAM_BUDGET, DEFAULT_TEAM_TIMEOUT_MS, localMembers, type TeamOptions } from './members.js';

export interface DebateTeamOptions extends TeamOptions {
  /** Rounds before the debate ends unapproved. Default 3. */
  maxRounds?: number;
}

/**
 * A drafter writes, two critics with different perspectives (evidence, the reader) critique each
 * candidate in parallel, a judge decides. It ends when the judge approves, when the draft stops
 * changing, or after `maxRounds` — and the result says which.
 */
export function debateTeam(options: DebateTeamOptions = {}): Team<string | { task: string }, unknown> {
  const member = options.members ?? localMembers;
  return debate({
    name: 'debate',
    description: 'A drafter, two critics (evidence, reader) and a judge, round after round.',
    generator: member('drafter'),
    critics: [
      { agent: member('fact-checker'), perspective: CRITIC_PERSPECTIVES['fact-checker'] },
      { agent: member('editor'), perspective: CRITIC_PERSPECTIVES.editor },
    ],
    judge: member('judge'),
    maxRounds: options.maxRounds ?? 3,
    // Converged means the drafter made no change at all in answer to the critiques.
    converged: (previous, current) =>
      JSON.stringify((previous as DebateCandidate | undefined)?.draft?.sections) ===
      JSON.stringify((current as DebateCandidate | undefined)?.draft?.sections),
    termination: timeout(options.timeoutMs ?? DEFAULT_TEAM_TIMEOUT_MS),
    budget: options.budget ?? DEFAULT_TEAM_BUDGET,
  });
}
