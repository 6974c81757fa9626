import {
  critiqueText,
  type Draft,
  type Finding,
  type ReviewRequest,
  reviewDraft,
  type SourceRef,
  uncoveredFindings,
  unknownCitations,
  verdictSchema,
} from '@baton/agents';
import { describe, expect, it } from 'vitest';

const sources: SourceRef[] = [
  { id: 'retries-and-backoff', title: 'Retries with exponential backoff and jitter' },
  { id: 'idempotency', title: 'Idempotent tool calls and idempotency keys' },
];

const findings: Finding[] = [
  {
    claim: 'Retry only what can succeed on a second attempt.',
    sources: ['retries-and-backoff'],
  },
  {
    claim: 'The standard technique is an idempotency key.',
    sources: ['idempotency'],
  },
];

function goodDraft(): Draft {
  return {
    title: 'Retries without duplicates',
    summary:
      'Retries recover from transient failures; idempotency keys keep them from repeating side effects.',
    sections: [
      {
        heading: 'Overview',
        body: 'This brief covers retries and their side effects. It draws on two sources about backoff [retries-and-backoff] and about idempotency [idempotency], and it quotes each of them.',
        citations: ['retries-and-backoff', 'idempotency'],
      },
      {
        heading: 'When to retry',
        body: 'Retry only what can succeed on a second attempt [retries-and-backoff]. Errors such as an invalid argument fail the same way again, so retrying them adds latency and cost.',
        citations: ['retries-and-backoff'],
      },
      {
        heading: 'Idempotency',
        body: 'The standard technique is an idempotency key [idempotency]. The receiver stores the key with the outcome and returns the stored outcome when the key arrives again.',
        citations: ['idempotency'],
      },
      {
        heading: 'Recommendations',
        body: 'Classify errors before retrying them [retries-and-backoff], and give every operation with side effects a key derived from the logical operation [idempotency] before any retry policy touches it.',
        citations: ['retries-and-backoff', 'idempotency'],
      },
    ],
    citations: ['retries-and-backoff', 'idempotency'],
  };
}

function request(draft: Draft): ReviewRequest {
  return { draft, sources, findings, topic: 'retries' };
}

describe('reviewDraft', () => {
  it('approves a draft that meets every rule, with a valid verdict', () => {
    const verdict = reviewDraft(request(goodDraft()));
    expect(verdict).toEqual({ decision: 'approve', score: 10, issues: [] });
    expect(verdictSchema.parse(verdict)).toEqual(verdict);
  });

  it('flags a citation that is not a provided source as critical', () => {
    const draft = goodDraft();
    draft.sections[1]!.body += ' Jitter spreads retries out [made-up-source].';
    const verdict = reviewDraft(request(draft));
    expect(verdict.decision).toBe('revise');
    expect(verdict.issues).toContainEqual(
      expect.objectContaining({ severity: 'critical', rule: 'citation-unknown', section: 'When to retry' }),
    );
    expect(unknownCitations(draft, sources)).toEqual(['made-up-source']);
    expect(verdictSchema.safeParse(verdict).success).toBe(true);
  });

  it('asks for a closing section, every finding, and citations in every section', () => {
    const draft = goodDraft();
    draft.sections = draft.sections.slice(0, 2);
    draft.sections[0]!.citations = [];
    draft.sections[0]!.body =
      'This brief covers retries and their side effects, for teams that run agents with tools that act on other systems and must not repeat themselves.';
    const verdict = reviewDraft(request(draft));
    const rules = verdict.issues.map((issue) => issue.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['closing-section', 'finding-uncovered', 'section-uncited']),
    );
    expect(uncoveredFindings(draft, findings)).toEqual([1]);
    expect(verdict.decision).toBe('revise');
    expect(verdict.score).toBeLessThan(5);
  });

  it('flags figures no finding supports, and absolute claims as minor', () => {
    const draft = goodDraft();
    draft.sections[1]!.body +=
      ' Retries fix 95% of failures [retries-and-backoff]. Retries always work in the end [retries-and-backoff].';
    const verdict = reviewDraft(request(draft));
    expect(verdict.issues).toContainEqual(
      expect.objectContaining({ rule: 'unsupported-statistic', severity: 'major' }),
    );
    expect(verdict.issues).toContainEqual(
      expect.objectContaining({ rule: 'absolute-claim', severity: 'minor' }),
    );
  });

  it('checks length bounds and is deterministic', () => {
    const draft = goodDraft();
    const short = reviewDraft(request(draft), { minWords: 400 });
    expect(short.issues).toContainEqual(expect.objectContaining({ rule: 'too-short' }));
    expect(reviewDraft(request(draft), { minWords: 400 })).toEqual(short);
    expect(reviewDraft(request(draft), { maxWords: 50 }).issues).toContainEqual(
      expect.objectContaining({ rule: 'too-long' }),
    );
  });
});

describe('critiqueText', () => {
  const argued = [
    'Teams that run agents in production need limits that hold under pressure. A step limit ends a run that keeps calling tools,',
    'a token limit ends a conversation that keeps growing, and a cost limit protects the budget when an expensive model is routed in by mistake.',
    'Each limit should end the run with its own status so operators can tell them apart.',
    '',
    'In short, set all three limits on every agent, and alert on the rate at which each one fires.',
  ].join('\n');

  it('approves a text with a conclusion and no major issue', () => {
    const verdict = critiqueText(argued);
    expect(verdict.decision).toBe('approve');
  });

  it('asks for a conclusion and more substance, and flags vague words', () => {
    const verdict = critiqueText('Limits are really very important for agents. They basically stop runs.');
    expect(verdict.decision).toBe('revise');
    const rules = verdict.issues.map((issue) => issue.rule);
    expect(rules).toEqual(expect.arrayContaining(['too-short', 'closing-section', 'vague-language']));
  });
});
