import type { Draft, Finding, ReviewIssue, ReviewRequest, SourceRef, Verdict } from './contracts.js';
import { inlineCitations } from './render.js';
import { coverage, keywords, sentences, wordCount } from './text.js';

/**
 * The review rubric as deterministic rules. The reviewer agent shows their findings to its model (so a
 * real LLM starts from the mechanical checks and adds judgement), the offline model applies them as its
 * verdict, and a pipeline can call `reviewDraft` directly as a hard gate.
 */
export interface RubricOptions {
  /** Fewest words in the whole draft (sections and summary); default 120. */
  minWords: number;
  /** Most words in the whole draft; default 2,500. */
  maxWords: number;
  /** Sections shorter than this are "thin" (minor); default 20. */
  minSectionWords: number;
  /** Longest summary in words; default 90. */
  maxSummaryWords: number;
  /** A closing section (Recommendations, Conclusion, Takeaways, Next steps); default true. */
  requireClosingSection: boolean;
}

export const DEFAULT_RUBRIC: Readonly<RubricOptions> = Object.freeze({
  minWords: 120,
  maxWords: 2_500,
  minSectionWords: 20,
  maxSummaryWords: 90,
  requireClosingSection: true,
});

/** Rule ids, as they appear in `ReviewIssue.rule`, with what each checks. */
export const RUBRIC_RULES = Object.freeze({
  'citation-unknown': 'Every citation (listed or inline [id]) is one of the provided sources (critical).',
  'section-uncited': 'Every section cites at least one source (major).',
  structure: 'An opening section and at least one more section (major).',
  'closing-section': 'A closing section: Recommendations, Conclusion, Takeaways or Next steps (major).',
  'finding-uncovered': 'Every finding is stated in a section that cites one of its sources (major).',
  'unsupported-statistic': 'Every number, percentage or amount appears in the findings (major).',
  'too-short': 'The draft reaches the minimum length (major).',
  'too-long': 'The draft stays under the maximum length (major).',
  'absolute-claim': 'Absolute language (always, never, guaranteed) only where a finding says so (minor).',
  'thin-section': 'Each section says enough to stand on its own (minor).',
  'summary-length': 'The summary is short (minor).',
  'duplicate-heading': 'Section headings are distinct (minor).',
  'citations-unused': 'The draft lists only citations that a section uses (minor).',
  'citation-unlisted': "Inline [id] markers also appear in their section's citations (minor).",
});
export type RubricRule = keyof typeof RUBRIC_RULES;

export const CLOSING_HEADING =
  /\b(conclusions?|recommendations?|takeaways?|next steps?|in short|what to do)\b/i;
const ABSOLUTE =
  /\b(always|never|guarantee[sd]?|impossible|everyone|nobody|completely|entirely|in all cases)\b|\b100 ?%/i;
const STATISTIC = /[$€£]\s?\d[\d,.]*|\b\d+(?:[.,]\d+)*\s?(?:%|percent\b)|\b\d+\.\d+\b|\b\d{2,}\b/g;
const PENALTY = { critical: 3, major: 2, minor: 0.5 } as const;

/** Applies the rubric to a review request: the verdict a strict, deterministic reviewer would give. */
export function reviewDraft(request: ReviewRequest, options: Partial<RubricOptions> = {}): Verdict {
  const rubric = { ...DEFAULT_RUBRIC, ...options };
  const { draft, sources } = request;
  const issues: ReviewIssue[] = [
    ...checkCitations(draft, sources),
    ...checkStructure(draft, rubric),
    ...checkLength(draft, rubric),
    ...(request.findings ? checkFindings(draft, request.findings) : []),
    ...checkSupport(draft, request.findings, sources, request.topic),
  ];
  return verdictFrom(issues);
}

/** Scores issues (10 minus 3 per critical, 2 per major, 0.5 per minor) and decides: any major or critical → revise. */
export function verdictFrom(issues: readonly ReviewIssue[]): Verdict {
  let penalty = 0;
  for (const issue of issues) penalty += PENALTY[issue.severity];
  const score = Math.round(Math.max(0, 10 - penalty) * 10) / 10;
  const blocking = issues.some((issue) => issue.severity !== 'minor');
  return { decision: blocking ? 'revise' : 'approve', score, issues: [...issues] };
}

/** Citation ids of a draft that are not among `sources`: listed, per section, and inline markers. */
export function unknownCitations(draft: Draft, sources: readonly SourceRef[]): string[] {
  const known = new Set(sources.map((source) => source.id));
  const cited = new Set(draft.citations);
  for (const section of draft.sections) {
    for (const id of section.citations) cited.add(id);
    for (const id of inlineCitations(section.body)) cited.add(id);
  }
  return [...cited].filter((id) => !known.has(id));
}

function checkCitations(draft: Draft, sources: readonly SourceRef[]): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  const known = new Set(sources.map((source) => source.id));
  for (const id of unknownCitations(draft, sources)) {
    const section = draft.sections.find(
      (s) => s.citations.includes(id) || inlineCitations(s.body).includes(id),
    );
    issues.push({
      severity: 'critical',
      rule: 'citation-unknown',
      ...(section ? { section: section.heading } : {}),
      problem: `The draft cites "${id}", which is not one of the provided sources.`,
      suggestion: `Cite only these ids: ${[...known].join(', ') || '(none provided)'}; remove "${id}" or the claim that needs it.`,
    });
  }
  const used = new Set<string>();
  for (const section of draft.sections) {
    for (const id of section.citations) used.add(id);
    if (section.citations.length === 0) {
      issues.push({
        severity: 'major',
        rule: 'section-uncited',
        section: section.heading,
        problem: `Section "${section.heading}" cites no source, so its claims are unsupported.`,
        suggestion: 'Cite the source each claim comes from, or remove claims no source supports.',
      });
    }
    const unlisted = inlineCitations(section.body).filter(
      (id) => known.has(id) && !section.citations.includes(id),
    );
    if (unlisted.length > 0) {
      issues.push({
        severity: 'minor',
        rule: 'citation-unlisted',
        section: section.heading,
        problem: `Section "${section.heading}" marks ${unlisted.join(', ')} inline but does not list it in its citations.`,
        suggestion: 'Add every inline [id] to the section’s citations.',
      });
    }
  }
  const unused = draft.citations.filter((id) => !used.has(id) && known.has(id));
  if (unused.length > 0) {
    issues.push({
      severity: 'minor',
      rule: 'citations-unused',
      problem: `The draft lists ${unused.join(', ')} as citations but no section cites them.`,
      suggestion: 'Cite each listed source where it is used, or drop it from the citations.',
    });
  }
  return issues;
}

function checkStructure(draft: Draft, rubric: RubricOptions): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  if (draft.sections.length < 2) {
    issues.push({
      severity: 'major',
      rule: 'structure',
      problem: 'The draft has a single section: no opening that frames the topic, or no body.',
      suggestion: 'Open with an overview, then give each group of findings its own section.',
    });
  }
  const closing = draft.sections.slice(1).some((section) => CLOSING_HEADING.test(section.heading));
  if (rubric.requireClosingSection && !closing) {
    issues.push({
      severity: 'major',
      rule: 'closing-section',
      problem:
        'The draft stops after the findings: it has no closing section that tells the reader what to do.',
      suggestion:
        'Add a closing "Recommendations" (or "Conclusion") section that draws the findings together, with citations.',
    });
  }
  const seen = new Set<string>();
  for (const section of draft.sections) {
    const key = section.heading.trim().toLowerCase();
    if (seen.has(key)) {
      issues.push({
        severity: 'minor',
        rule: 'duplicate-heading',
        section: section.heading,
        problem: `Two sections are headed "${section.heading}".`,
        suggestion: 'Merge them or give each a heading that says what it covers.',
      });
    }
    seen.add(key);
  }
  return issues;
}

function checkLength(draft: Draft, rubric: RubricOptions): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  const words = wordCount(draft.summary) + draft.sections.reduce((sum, s) => sum + wordCount(s.body), 0);
  if (words < rubric.minWords) {
    issues.push({
      severity: 'major',
      rule: 'too-short',
      problem: `The draft has ${words} words; it needs at least ${rubric.minWords} to cover the findings.`,
      suggestion: 'State each finding in full and explain how the findings relate.',
    });
  } else if (words > rubric.maxWords) {
    issues.push({
      severity: 'major',
      rule: 'too-long',
      problem: `The draft has ${words} words; keep it under ${rubric.maxWords}.`,
      suggestion: 'Cut repetition and keep one or two sentences per finding.',
    });
  }
  for (const section of draft.sections) {
    const count = wordCount(section.body);
    if (count < rubric.minSectionWords) {
      issues.push({
        severity: 'minor',
        rule: 'thin-section',
        section: section.heading,
        problem: `Section "${section.heading}" has only ${count} words.`,
        suggestion: 'Develop it with the relevant findings, or merge it into a neighbouring section.',
      });
    }
  }
  const summaryWords = wordCount(draft.summary);
  if (summaryWords > rubric.maxSummaryWords) {
    issues.push({
      severity: 'minor',
      rule: 'summary-length',
      problem: `The summary has ${summaryWords} words; keep it under ${rubric.maxSummaryWords}.`,
      suggestion: 'Say in two or three sentences what the draft concludes.',
    });
  }
  return issues;
}

function checkFindings(draft: Draft, findings: readonly Finding[]): ReviewIssue[] {
  return uncoveredFindings(draft, findings).map((index) => {
    const finding = findings[index] as Finding;
    return {
      severity: 'major',
      rule: 'finding-uncovered',
      problem: `Finding ${index + 1} is not covered: "${finding.claim}"`,
      suggestion: `State it in a section that cites ${finding.sources.join(', ')}.`,
    } satisfies ReviewIssue;
  });
}

/**
 * Indexes of the findings no section covers. A finding is covered by a section that cites one of its
 * sources and contains at least 60% of the claim's content words.
 */
export function uncoveredFindings(draft: Draft, findings: readonly Finding[]): number[] {
  const sections = draft.sections.map((section) => ({
    citations: new Set([...section.citations, ...inlineCitations(section.body)]),
    words: new Set(keywords(section.body)),
  }));
  const uncovered: number[] = [];
  for (const [index, finding] of findings.entries()) {
    const wanted = keywords(finding.claim);
    const covered = sections.some(
      (section) =>
        finding.sources.some((id) => section.citations.has(id)) && coverage(wanted, section.words) >= 0.6,
    );
    if (!covered) uncovered.push(index);
  }
  return uncovered;
}

function checkSupport(
  draft: Draft,
  findings: readonly Finding[] | undefined,
  sources: readonly SourceRef[],
  topic: string | undefined,
): ReviewIssue[] {
  if (!findings) return [];
  const evidence = [topic ?? '', ...findings.map((f) => f.claim), ...sources.map((s) => s.title)].join(' ');
  const knownNumbers = new Set((evidence.match(STATISTIC) ?? []).map(normalizeNumber));
  const claims = findings.map((finding) => new Set(keywords(finding.claim)));
  const issues: ReviewIssue[] = [];
  for (const section of draft.sections) {
    for (const sentence of sentences(section.body)) {
      const plain = sentence.replace(/\[[^\]]*\]/g, '');
      const unsupported = (plain.match(STATISTIC) ?? []).filter(
        (token) => !knownNumbers.has(normalizeNumber(token)),
      );
      if (unsupported.length > 0) {
        issues.push({
          severity: 'major',
          rule: 'unsupported-statistic',
          section: section.heading,
          problem: `"${sentence}" states ${unsupported.join(', ')}, which no finding supports.`,
          suggestion: 'Remove the figure or cite a finding that gives it.',
        });
        continue;
      }
      if (ABSOLUTE.test(plain)) {
        const words = keywords(plain);
        const quoted = claims.some((claim) => coverage(words, claim) >= 0.6);
        if (!quoted) {
          issues.push({
            severity: 'minor',
            rule: 'absolute-claim',
            section: section.heading,
            problem: `"${sentence}" makes an absolute claim that the findings do not state.`,
            suggestion: 'Soften it ("usually", "in most cases") or quote the finding that supports it.',
          });
        }
      }
    }
  }
  return issues;
}

function normalizeNumber(token: string): string {
  return token.replace(/[\s,$€£]|percent/gi, '').replace('%', '');
}
