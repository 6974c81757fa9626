import type { Draft, DraftSection, ReviewIssue, Revision, WriteRequest } from '../../contracts.js';
import {
  CLOSING_HEADING,
  RUBRIC_RULES,
  reviewDraft,
  uncoveredFindings,
  unknownCitations,
} from '../../rubric.js';
import { countWord, keywords, sentences, wordCount } from '../../text.js';
import {
  closingSection,
  draftSummary,
  finishDraft,
  groupBySource,
  overview,
  type SourceGroup,
  sourceSection,
  withMarker,
} from './writer.js';

type Fix =
  | 'closing'
  | 'uncovered'
  | 'unknown-citation'
  | 'uncited'
  | 'structure'
  | 'too-short'
  | 'too-long'
  | 'remove-sentence'
  | 'thin'
  | 'summary'
  | 'duplicate-heading'
  | 'citations'
  | 'vague'
  | 'long-sentence'
  | 'repetition';

const RULE_FIXES: Record<string, Fix> = {
  'closing-section': 'closing',
  'finding-uncovered': 'uncovered',
  'citation-unknown': 'unknown-citation',
  'section-uncited': 'uncited',
  structure: 'structure',
  'too-short': 'too-short',
  'too-long': 'too-long',
  'unsupported-statistic': 'remove-sentence',
  'absolute-claim': 'remove-sentence',
  'thin-section': 'thin',
  'summary-length': 'summary',
  'duplicate-heading': 'duplicate-heading',
  'citations-unused': 'citations',
  'citation-unlisted': 'citations',
  'vague-language': 'vague',
  'long-sentence': 'long-sentence',
  repetition: 'repetition',
};

/** Issues written by people or LLMs carry no rule id: recognise the common ones by their words. */
const TEXT_FIXES: [RegExp, Fix][] = [
  [/conclu|recommend|closing|takeaway|next steps|call to action/, 'closing'],
  [
    /not (?:in|among|one of) the (?:provided )?sources|unknown (?:source|citation)|does not resolve|fabricat/,
    'unknown-citation',
  ],
  [/finding|not covered|omit|left out|missing (?:point|claim)/, 'uncovered'],
  [/cites? no source|uncited|unsupported section|no citation/, 'uncited'],
  [/too short|more detail|expand|elaborate/, 'too-short'],
  [/too long|shorten|trim|concise/, 'too-long'],
  [/unsupported|no finding supports|not supported|absolute/, 'remove-sentence'],
  [/summary/, 'summary'],
  [/duplicate|repeated heading|same heading/, 'duplicate-heading'],
  [/vague|filler|weasel/, 'vague'],
  [/long sentence|runs to \d+ words|split it/, 'long-sentence'],
  [/appears more than once|repetit|repeats/, 'repetition'],
  [/overview|introduc|single section|structure/, 'structure'],
];

const VAGUE = /\s*\b(very|really|basically|stuff|a lot of|kind of|sort of|somehow|etc\.?)(?=\W|$)/gi;

/** Applies one fix per recognised issue to the previous draft, then makes the draft consistent again. */
export function reviseDraft(request: WriteRequest, revision: Revision): Draft {
  const groups = groupBySource(request);
  let draft: Draft = structuredClone(revision.previousDraft);
  const applied = new Set<ReviewIssue>();
  const done = new Set<string>();
  for (const issue of revision.issues) {
    const fix = classify(issue);
    if (fix === undefined) continue;
    // Whole-draft fixes run once however many issues ask for them.
    const key = ['remove-sentence', 'uncited', 'thin'].includes(fix)
      ? `${fix}:${issue.section}:${issue.problem}`
      : fix;
    if (done.has(key)) {
      applied.add(issue);
      continue;
    }
    done.add(key);
    const next = apply(fix, issue, draft, request, groups);
    if (next) {
      draft = next;
      applied.add(issue);
    }
  }
  draft = finishDraft(draft, request.sources);
  // Self-check with the rubric: an issue a rule found counts as addressed when that rule no longer
  // finds it; an issue without a rule id counts when a fix was applied for it.
  const left = new Set(
    reviewDraft({
      draft,
      sources: request.sources,
      findings: request.findings,
      topic: request.topic,
    }).issues.map(issueKey),
  );
  const addressed = revision.issues.filter((issue) =>
    issue.rule !== undefined && issue.rule in RUBRIC_RULES ? !left.has(issueKey(issue)) : applied.has(issue),
  ).length;
  return {
    ...draft,
    summary: `${draftSummary(request, `Revision ${countWord(revision.round)} of the draft`)} ${addressedNote(addressed, revision.issues.length)}`,
  };
}

function issueKey(issue: ReviewIssue): string {
  return `${issue.rule}|${issue.section ?? ''}`;
}

function addressedNote(addressed: number, total: number): string {
  if (total === 0) return 'The reviewer raised no issues.';
  if (addressed === total && total === 2) return 'It addresses both issues the reviewer raised.';
  if (addressed === total)
    return total === 1
      ? 'It addresses the issue the reviewer raised.'
      : `It addresses all ${countWord(total)} issues the reviewer raised.`;
  return `It addresses ${countWord(addressed)} of the ${countWord(total)} issues the reviewer raised.`;
}

function classify(issue: ReviewIssue): Fix | undefined {
  if (issue.rule && issue.rule in RULE_FIXES) return RULE_FIXES[issue.rule];
  const text = `${issue.problem} ${issue.suggestion}`.toLowerCase();
  return TEXT_FIXES.find(([pattern]) => pattern.test(text))?.[1];
}

function apply(
  fix: Fix,
  issue: ReviewIssue,
  draft: Draft,
  request: WriteRequest,
  groups: readonly SourceGroup[],
): Draft | undefined {
  switch (fix) {
    case 'closing':
      return hasClosing(draft)
        ? undefined
        : { ...draft, sections: [...draft.sections, closingSection(request, groups)] };
    case 'uncovered':
    case 'too-short':
      return (
        addUncovered(draft, request, groups) ??
        (fix === 'too-short' && !hasClosing(draft)
          ? apply('closing', issue, draft, request, groups)
          : undefined)
      );
    case 'unknown-citation':
      return unknownCitations(draft, request.sources).length > 0
        ? finishDraft(draft, request.sources)
        : undefined;
    case 'uncited':
      return citeSections(draft, request, issue.section);
    case 'structure':
      return restructure(draft, request, groups);
    case 'too-long':
      return mapBodies(draft, (body) => sentences(body).slice(0, 4).join(' '));
    case 'remove-sentence':
      return removeQuoted(draft, issue);
    case 'thin':
      return thicken(draft, groups, issue.section);
    case 'summary':
    case 'citations':
      return draft; // Rebuilt for every revision (summary) and by finishDraft (citations).
    case 'duplicate-heading':
      return mergeDuplicates(draft);
    case 'vague':
      return mapBodies(draft, (body) => body.replace(VAGUE, '').replace(/\s{2,}/g, ' '));
    case 'long-sentence':
      return mapBodies(draft, (body) => sentences(body).map(splitLong).join(' '));
    case 'repetition':
      return dedupeSentences(draft);
  }
}

function hasClosing(draft: Draft): boolean {
  return draft.sections.slice(1).some((section) => CLOSING_HEADING.test(section.heading));
}

function closingIndex(draft: Draft): number {
  const index = draft.sections.findIndex((section, i) => i > 0 && CLOSING_HEADING.test(section.heading));
  return index < 0 ? draft.sections.length : index;
}

function addUncovered(
  draft: Draft,
  request: WriteRequest,
  groups: readonly SourceGroup[],
): Draft | undefined {
  const missing = uncoveredFindings(draft, request.findings);
  if (missing.length === 0) return undefined;
  const sections = draft.sections.map((section) => ({ ...section, citations: [...section.citations] }));
  for (const index of missing) {
    const finding = request.findings[index];
    const group = groups.find((g) => g.findings.includes(finding as never));
    if (!finding || !group) continue;
    const target = sections.findIndex(
      (section, i) =>
        i > 0 && !CLOSING_HEADING.test(section.heading) && section.heading === group.source.title,
    );
    if (target >= 0) {
      const section = sections[target] as DraftSection;
      section.body = `${section.body} ${withMarker(finding.claim, finding.sources)}`;
      section.citations.push(...finding.sources);
    } else {
      sections.splice(
        closingIndex({ ...draft, sections }),
        0,
        sourceSection({ source: group.source, findings: [finding] }),
      );
    }
  }
  return { ...draft, sections };
}

function citeSections(draft: Draft, request: WriteRequest, heading: string | undefined): Draft {
  const sections = draft.sections
    .map((section, index) => {
      if (section.citations.length > 0 || (heading !== undefined && section.heading !== heading))
        return section;
      const words = new Set(keywords(section.body));
      let best: { id: string; score: number } | undefined;
      for (const finding of request.findings) {
        const score = keywords(finding.claim).filter((word) => words.has(word)).length;
        if (score > 0 && (!best || score > best.score)) best = { id: finding.sources[0] as string, score };
      }
      if (best) return { ...section, citations: [best.id] };
      // Nothing supports it: keep the frame (first) and closing sections, drop the rest.
      return index === 0 || CLOSING_HEADING.test(section.heading) ? section : undefined;
    })
    .filter((section): section is DraftSection => section !== undefined);
  return { ...draft, sections: sections.length > 0 ? sections : draft.sections };
}

function restructure(draft: Draft, request: WriteRequest, groups: readonly SourceGroup[]): Draft | undefined {
  if (draft.sections.length >= 2) return undefined;
  const headings = new Set(draft.sections.map((section) => section.heading));
  const body = groups.filter((group) => !headings.has(group.source.title)).map(sourceSection);
  return {
    ...draft,
    sections: [overview(request, groups), ...draft.sections.filter((s) => s.heading !== 'Overview'), ...body],
  };
}

function removeQuoted(draft: Draft, issue: ReviewIssue): Draft | undefined {
  const quoted = /["“]([^"”]{12,})["”]/.exec(issue.problem)?.[1]?.replace(/…$/, '');
  if (!quoted) return undefined;
  const target = quoted.replace(/\s*\[[^\]]*\]/g, '').trim();
  let removed = false;
  const next = mapBodies(draft, (body, section) => {
    if (issue.section !== undefined && section.heading !== issue.section) return body;
    const kept = sentences(body).filter((sentence) => {
      const plain = sentence.replace(/\s*\[[^\]]*\]/g, '').trim();
      const match = plain === target || plain.startsWith(target) || target.startsWith(plain);
      if (match) removed = true;
      return !match;
    });
    return kept.join(' ');
  });
  return removed ? next : undefined;
}

function thicken(
  draft: Draft,
  groups: readonly SourceGroup[],
  heading: string | undefined,
): Draft | undefined {
  const index = draft.sections.findIndex((section) => section.heading === heading);
  const section = draft.sections[index];
  if (!section) return undefined;
  const group = groups.find((g) => g.source.title === section.heading);
  const extra = group?.findings.find((finding) => !section.body.includes(finding.claim.slice(0, 40)));
  if (!extra) return undefined;
  const sections = [...draft.sections];
  sections[index] = {
    ...section,
    body: `${section.body} ${withMarker(extra.claim, extra.sources)}`,
    citations: [...section.citations, ...extra.sources],
  };
  return { ...draft, sections };
}

function mergeDuplicates(draft: Draft): Draft {
  const merged: DraftSection[] = [];
  for (const section of draft.sections) {
    const same = merged.find((s) => s.heading.trim().toLowerCase() === section.heading.trim().toLowerCase());
    if (same) {
      same.body = `${same.body} ${section.body}`;
      same.citations = [...new Set([...same.citations, ...section.citations])];
    } else merged.push({ ...section, citations: [...section.citations] });
  }
  return { ...draft, sections: merged };
}

function dedupeSentences(draft: Draft): Draft {
  const seen = new Set<string>();
  return mapBodies(draft, (body) =>
    sentences(body)
      .filter((sentence) => {
        const key = sentence.toLowerCase().replace(/\W+/g, ' ').trim();
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .join(' '),
  );
}

function splitLong(sentence: string): string {
  if (wordCount(sentence) <= 45) return sentence;
  const at = sentence.search(/;\s|,\s(?:and|but|so|while|which)\s/);
  if (at < 0) return sentence;
  const head = sentence.slice(0, at).trim();
  const tail = sentence
    .slice(at + 1)
    .trim()
    .replace(/^(and|but|so|while|which)\s+/i, '');
  return `${head}. ${tail.charAt(0).toUpperCase()}${tail.slice(1)}`;
}

function mapBodies(draft: Draft, transform: (body: string, section: DraftSection) => string): Draft {
  return {
    ...draft,
    sections: draft.sections.map((section) => ({
      ...section,
      body: transform(section.body, section).trim(),
    })),
  };
}
