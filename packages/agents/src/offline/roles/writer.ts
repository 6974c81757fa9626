import type { Draft, DraftSection, Finding, SourceRef, WriteRequest } from '../../contracts.js';
import { writeRequestSchema } from '../../contracts.js';
import { inlineCitations } from '../../render.js';
import { clip, countWord, titleCase } from '../../text.js';
import { findInput, taskText } from '../conversation.js';
import { finalAnswer, OFFLINE_LABEL, type OfflineTurn, type TurnContext } from '../turn.js';
import { reviseDraft } from './revise.js';

/**
 * The offline writer: turns findings into a cited draft — an overview, then one section per source
 * quoting its findings with inline [id] markers. A first draft stops there; the closing
 * "Recommendations" section is written when a reviewer asks for it, and every other issue a reviewer
 * raises is addressed by a matching rule (see revise.ts). Deterministic: no randomness, no clock.
 */
export function writerTurn(context: TurnContext): OfflineTurn {
  const request =
    findInput(context.messages, writeRequestSchema, (text) => ({
      topic: clip(text, 500),
      findings: [],
      sources: [],
    })) ??
    ({
      topic: clip(taskText(context.messages), 500) || 'the task',
      findings: [],
      sources: [],
    } satisfies WriteRequest);
  const draft = request.revision ? reviseDraft(request, request.revision) : firstDraft(request);
  return finalAnswer(context, draft);
}

export function firstDraft(request: WriteRequest): Draft {
  const groups = groupBySource(request);
  const sections: DraftSection[] = [overview(request, groups)];
  for (const group of groups) sections.push(sourceSection(group));
  return finishDraft(
    {
      title: titleCase(request.topic),
      summary: draftSummary(request, 'A first draft'),
      sections,
      citations: [],
    },
    request.sources,
  );
}

export interface SourceGroup {
  source: SourceRef;
  findings: Finding[];
}

/** Findings grouped by the first source they cite that is a provided source, in order of first appearance. */
export function groupBySource(request: Pick<WriteRequest, 'findings' | 'sources'>): SourceGroup[] {
  const sources = new Map(request.sources.map((source) => [source.id, source]));
  const groups = new Map<string, SourceGroup>();
  for (const finding of request.findings) {
    const primary = finding.sources.find((id) => sources.has(id));
    if (primary === undefined) continue;
    const group = groups.get(primary) ?? { source: sources.get(primary) as SourceRef, findings: [] };
    group.findings.push(finding);
    groups.set(primary, group);
  }
  return [...groups.values()];
}

export function overview(request: WriteRequest, groups: readonly SourceGroup[]): DraftSection {
  if (groups.length === 0) {
    return {
      heading: 'Overview',
      body: `This brief was asked to cover ${request.topic}, but the research produced no findings with sources, so there is nothing it can state with a citation. Run the research again with broader keywords or a corpus that covers the topic.`,
      citations: [],
    };
  }
  const list = joinAnd(groups.map((group) => `“${group.source.title}” [${group.source.id}]`));
  const count = countWord(groups.length);
  return {
    heading: 'Overview',
    body:
      `This brief covers ${request.topic}. It draws on ${count} source${groups.length === 1 ? '' : 's'}: ${list}. ` +
      'Each section below takes one source in turn and quotes its key points.',
    citations: groups.map((group) => group.source.id),
  };
}

export function sourceSection(group: SourceGroup): DraftSection {
  const body = group.findings.map((finding) => withMarker(finding.claim, finding.sources)).join(' ');
  return {
    heading: group.source.title,
    body,
    citations: [...new Set(group.findings.flatMap((f) => f.sources))],
  };
}

/** "Claim text." → "Claim text [id]." */
export function withMarker(claim: string, ids: readonly string[]): string {
  const text = claim.trim();
  const end = /[.!?]$/.test(text) ? text.slice(-1) : '.';
  const bare = /[.!?]$/.test(text) ? text.slice(0, -1) : text;
  return `${bare} ${ids.map((id) => `[${id}]`).join(' ')}${end}`;
}

export function closingSection(request: WriteRequest, groups: readonly SourceGroup[]): DraftSection {
  const steps = groups.slice(0, 4).map((group) => `“${group.source.title}” [${group.source.id}]`);
  let order: string;
  if (steps.length === 0) order = 'Gather sources before acting on this topic.';
  else if (steps.length === 1)
    order = `Start with the practices in ${steps[0]}, and revisit them as the system grows.`;
  else order = `Start with ${steps[0]}, then ${joinAnd(steps.slice(1), 'and finally')}.`;
  return {
    heading: 'Recommendations',
    body:
      `Taken together, the sources suggest an order of work for ${request.topic}. ${order} ` +
      'Each of these practices guards against a different kind of failure, so they work best together rather than as substitutes for one another.',
    citations: groups.slice(0, 4).map((group) => group.source.id),
  };
}

export function draftSummary(request: WriteRequest, what: string): string {
  const findings = request.findings.length;
  const sources = new Set(request.findings.flatMap((finding) => finding.sources)).size;
  if (findings === 0) {
    return `${what} on ${clip(request.topic, 120)}, produced by the ${OFFLINE_LABEL}: the research found nothing to cite, so the draft says so instead of inventing content.`;
  }
  return `${what} on ${clip(request.topic, 120)}, produced by the ${OFFLINE_LABEL} from ${countWord(findings)} finding${findings === 1 ? '' : 's'} in ${countWord(sources)} source${sources === 1 ? '' : 's'}; each finding is quoted from the source it cites.`;
}

/**
 * Makes a draft consistent with its sources: inline markers of provided sources join their section's
 * citations, ids that are not provided sources are dropped, and the draft's citations are the union of
 * its sections' in order.
 */
export function finishDraft(draft: Draft, sources: readonly SourceRef[]): Draft {
  const known = new Set(sources.map((source) => source.id));
  const sections = draft.sections.map((section) => {
    const body = section.body
      .replace(/\s*\[([^\]\s]+)\](?!\()/g, (marker, id: string) =>
        known.has(id) || !looksLikeId(id) ? marker : '',
      )
      .replace(/\s+([.,;:!?])/g, '$1')
      .trim();
    const citations = [...new Set([...section.citations, ...inlineCitations(body)])].filter((id) =>
      known.has(id),
    );
    return {
      heading: clip(section.heading, 200),
      body: clip(body === '' ? section.heading : body, 8000),
      citations,
    };
  });
  return {
    title: clip(draft.title, 200),
    summary: clip(draft.summary, 1500),
    sections: sections.slice(0, 20),
    citations: [...new Set(sections.slice(0, 20).flatMap((section) => section.citations))],
  };
}

function looksLikeId(text: string): boolean {
  return /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$|^https?:\/\//.test(text);
}

export function joinAnd(items: readonly string[], last = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1)}`;
}
