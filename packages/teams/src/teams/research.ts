import {
  type Draft,
  type ResearchFindings,
  type ResearchRequest,
  researchContract,
  reviewContract,
  type SourceRef,
  type Verdict,
  writeContract,
} from '@baton/agents';
import type { AgentLike } from '@baton/core';
import { type PipelineContext, pipeline, type Team, timeout } from '@baton/supervisor';
import {
  DEFAULT_TEAM_BUDGET,
  DEFAULT_TEAM_TIMEOUT_MS,
  localMembersWith,
  type TeamOptions,
} from './members.js';

export interface ResearchTeamOptions extends TeamOptions {
  /** Times the reviewer may send the draft back to the writer. Default 2. */
  maxRevisions?: number;
  /**
   * A last stage, named `publisher`, that gets the reviewed report — an agent that publishes or sends it.
   * Its answer is the report's `publication`. The revise loop still ends at the reviewer, so only a report
   * the reviewer approved reaches it: a team that runs out of revisions stops before publishing.
   */
  publisher?: AgentLike;
}

/** What the research team hands back: the last draft, the reviewer's verdict on it, and the sources. */
export interface ResearchReport {
  topic: string;
  draft: Draft;
  verdict: Verdict | undefined;
  sources: SourceRef[];
  /** What the publisher stage answered, when the team has one. */
  publication?: unknown;
}

/**
 * research → write → review, with a bounded revise loop: a "revise" verdict sends the draft back to
 * the writer with the reviewer's issues, at most `maxRevisions` times. Every handoff is checked
 * against its contract on both sides; the team shares one budget and stops on a real timeout.
 */
export function researchTeam(options: ResearchTeamOptions = {}): Team<ResearchRequest, ResearchReport> {
  const member = options.members ?? localMembersWith(options);
  const maxRevisions = options.maxRevisions ?? 2;
  return pipeline<ResearchRequest, ResearchReport>({
    name: 'research',
    description: 'Researches a topic in the corpus, writes a cited report, reviews it (and revises it).',
    stages: [
      { agent: member('researcher'), contract: researchContract },
      {
        agent: member('writer'),
        contract: writeContract,
        // First pass: the findings. After a "revise" verdict: the same findings plus the issues to fix.
        input: ({ outputs, round }) => {
          const research = outputs.researcher as ResearchFindings;
          const request = { topic: research.topic, findings: research.findings, sources: research.sources };
          const verdict = outputs.reviewer as Verdict | undefined;
          if (round === 1 || !verdict) return request;
          const previousDraft = outputs.writer as Draft;
          return { ...request, revision: { round: round - 1, issues: verdict.issues, previousDraft } };
        },
      },
      {
        agent: member('reviewer'),
        contract: reviewContract,
        input: ({ outputs }) => {
          const research = outputs.researcher as ResearchFindings;
          return {
            draft: outputs.writer,
            sources: research.sources,
            findings: research.findings,
            topic: research.topic,
          };
        },
      },
      ...(options.publisher
        ? [
            {
              agent: options.publisher,
              name: 'publisher',
              input: ({ outputs }: PipelineContext) => reportOf(outputs),
            },
          ]
        : []),
    ],
    loop: {
      after: 'reviewer',
      to: 'writer',
      when: (verdict) => (verdict as Verdict).decision === 'revise',
      maxRounds: maxRevisions,
    },
    output: ({ outputs }) => {
      const report = reportOf(outputs);
      if (outputs.publisher !== undefined) report.publication = outputs.publisher;
      return report;
    },
    termination: timeout(options.timeoutMs ?? DEFAULT_TEAM_TIMEOUT_MS),
    budget: options.budget ?? DEFAULT_TEAM_BUDGET,
  });
}

/** The report as the stages left it: the last draft, the reviewer's verdict on it, the sources. */
function reportOf(outputs: Record<string, unknown>): ResearchReport {
  const research = outputs.researcher as ResearchFindings;
  return {
    topic: research.topic,
    draft: outputs.writer as Draft,
    verdict: outputs.reviewer as Verdict | undefined,
    sources: research.sources,
  };
}
