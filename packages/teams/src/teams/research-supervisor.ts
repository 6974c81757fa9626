import { modelForRole, researchContract, reviewContract, writeContract } from '@baton/agents';
import { defineAgent, type Model } from '@baton/core';
import { supervisor, type Team, timeout } from '@baton/supervisor';
import {
  DEFAULT_TEAM_BUDGET,
  DEFAULT_TEAM_TIMEOUT_MS,
  localMembersWith,
  type TeamOptions,
} from './members.js';

export interface ResearchSupervisorOptions extends TeamOptions {
  /** The manager's model; default `modelForRole('manager')` (a real model when configured, else offline). */
  managerModel?: Model;
}

/**
 * A manager delegates to the researcher, writer and reviewer through typed delegation tools (one per
 * worker, its input the worker's contract), decides the order itself, sends a draft back when the
 * reviewer asks, and writes the final report. The manager is always local; workers may be remote.
 */
export function researchSupervisorTeam(options: ResearchSupervisorOptions = {}): Team<string, string> {
  const member = options.members ?? localMembersWith(options);
  const manager = defineAgent<string, string>({
    name: 'manager',
    description: 'Plans a cited research report and delegates the work to specialists.',
    instructions: [
      'You manage a research team: a researcher (finds and reads sources), a writer (drafts a cited report',
      'from findings) and a reviewer (approves a draft or asks for a revision with issues).',
      'Delegate with the delegate_to_<worker> tools, passing each worker exactly the data its schema asks for:',
      'research first, then writing, then review. When the reviewer says "revise", delegate to the writer again',
      'with a revision (round, the issues, the previous draft), at most twice. When a draft is approved, answer',
      'with the final report in Markdown: the draft with its citations and a list of its sources.',
    ].join('\n'),
    model: options.managerModel ?? modelForRole('manager'),
    limits: { maxSteps: 12, timeoutMs: options.timeoutMs ?? DEFAULT_TEAM_TIMEOUT_MS },
  });
  return supervisor({
    name: 'research-supervisor',
    description: 'A manager delegating research, writing and review to three specialists.',
    manager,
    workers: [
      { agent: member('researcher'), contract: researchContract },
      { agent: member('writer'), contract: writeContract },
      { agent: member('reviewer'), contract: reviewContract },
    ],
    termination: timeout(options.timeoutMs ?? DEFAULT_TEAM_TIMEOUT_MS),
    // A delegation step is a round: research, write, review and up to two revisions fit in 8.
    maxRounds: 8,
    budget: options.budget ?? DEFAULT_TEAM_BUDGET,
  });
}
