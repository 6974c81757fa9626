import {
  bundledCorpus,
  type Corpus,
  type Draft,
  draftSchema,
  inlineCitations,
  renderDraft,
  type SourceRef,
  sourceRefSchema,
  verdictSchema,
} from '@baton/agents';
import { debateVerdictSchema, type TeamResult } from '@baton/supervisor';

export interface Citation {
  id: string;
  /** The corpus document's title, when the id resolves to one. */
  title?: string;
  resolved: boolean;
}

/** A team's answer for a reader: Markdown, its citations checked against the corpus, the verdict. */
export interface TeamReport {
  markdown: string;
  citations: Citation[];
  /** The reviewer's or the judge's last word, in one line. */
  verdict?: string;
}

/**
 * Reads any team's result: a draft (the output itself, `output.draft`, or the last draft a member
 * handed over) is rendered with its sources; a text output is shown as it is; anything else as JSON.
 */
export function teamReport(result: TeamResult, options: { corpus?: Corpus } = {}): TeamReport {
  const corpus = options.corpus ?? bundledCorpus();
  const outputs = [result.output, ...result.transcript.map((handoff) => handoff.output).reverse()];
  const draft = firstOf(outputs, draftOf);
  const sources = firstOf(outputs, sourcesOf) ?? [];
  let markdown: string;
  if (typeof result.output === 'string') markdown = result.output;
  else if (draft) markdown = renderDraft(draft, sources);
  else if (result.output !== undefined) markdown = JSON.stringify(result.output, null, 2);
  else markdown = `No report: the team stopped (${result.stopReason.message}).`;

  const ids = new Set([...inlineCitations(markdown), ...(draft?.citations ?? [])]);
  const citations = [...ids].map((id): Citation => {
    const document = corpus.get(id);
    return document ? { id, title: document.title, resolved: true } : { id, resolved: false };
  });
  const verdict = firstOf([asRecord(result.output)?.verdict, ...outputs.slice(1)], verdictLine);
  return verdict === undefined ? { markdown, citations } : { markdown, citations, verdict };
}

/** One line on the citations: how many, and whether each resolves to a corpus document. */
export function citationLine(citations: readonly Citation[]): string {
  if (citations.length === 0) return 'Citations: none';
  const unresolved = citations.filter((citation) => !citation.resolved);
  const ids = citations.map((citation) => citation.id).join(', ');
  return unresolved.length === 0
    ? `Citations: ${citations.length}, all resolve to corpus documents (${ids})`
    : `Citations: ${citations.length}, ${unresolved.length} not in the corpus: ${unresolved.map((c) => c.id).join(', ')}`;
}

function firstOf<T>(values: readonly unknown[], read: (value: unknown) => T | undefined): T | undefined {
  for (const value of values) {
    const found = read(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

function draftOf(value: unknown): Draft | undefined {
  const direct = draftSchema.safeParse(value);
  if (direct.success) return direct.data;
  const nested = draftSchema.safeParse(asRecord(value)?.draft);
  return nested.success ? nested.data : undefined;
}

function sourcesOf(value: unknown): SourceRef[] | undefined {
  const parsed = sourceRefSchema.array().min(1).safeParse(asRecord(value)?.sources);
  return parsed.success ? parsed.data : undefined;
}

function verdictLine(value: unknown): string | undefined {
  const review = verdictSchema.safeParse(value);
  if (review.success) {
    const { decision, score, issues } = review.data;
    const open = issues.filter((issue) => issue.severity !== 'minor').length;
    return decision === 'approve'
      ? `approved by the reviewer (score ${score}/10${issues.length > 0 ? `, ${issues.length} minor note${issues.length === 1 ? '' : 's'}` : ''})`
      : `revise (score ${score}/10, ${open} major issue${open === 1 ? '' : 's'} left)`;
  }
  const judged = debateVerdictSchema.safeParse(value);
  if (judged.success)
    return `${judged.data.approve ? 'approved' : 'not approved'} by the judge: ${judged.data.reason}`;
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
