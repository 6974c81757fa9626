import { type Draft, draftSchema, type SourceRef, sourceRefSchema, type Verdict } from '../../contracts.js';
import { critiqueText } from '../../critique.js';
import { renderDraft } from '../../render.js';
import { reviewDraft } from '../../rubric.js';
import { wordCount } from '../../text.js';
import { extractJson } from '../conversation.js';
import { finalAnswer, lookupIn, OFFLINE_LABEL, type OfflineTurn, type TurnContext } from '../turn.js';

type Candidate = { kind: 'draft'; draft: Draft; sources?: SourceRef[] } | { kind: 'text'; text: string };

const CANDIDATE_KEYS = [
  'candidates',
  'proposals',
  'answers',
  'drafts',
  'responses',
  'options',
  'candidate',
  'proposal',
  'answer',
  'output',
  'response',
  'draft',
  'text',
  'content',
  'result',
  'latest',
];

/**
 * The offline critic: finds the text under debate in the latest user message (a draft object, a text
 * field or the message itself) and critiques it with fixed rules — the review rubric for a draft with
 * sources, the prose critique otherwise. It approves once no major issue is left.
 */
export function criticTurn(context: TurnContext): OfflineTurn {
  const candidates = collectCandidates(latestInput(context));
  const candidate = candidates.at(-1);
  const verdict = candidate ? assess(candidate) : critiqueText('');
  return finalAnswer(context, verdict, {
    lookup: verdictLookup(verdict),
    render: () => renderVerdict(verdict, 'critic'),
  });
}

/**
 * The offline judge: assesses every candidate it is shown with the same rules, picks the best (the
 * latest on a tie) and approves it when it has no major issue.
 */
export function judgeTurn(context: TurnContext): OfflineTurn {
  const candidates = collectCandidates(latestInput(context));
  const verdicts = candidates.map(assess);
  let best = verdicts.length - 1;
  for (const [index, verdict] of verdicts.entries()) {
    if (verdict.score > (verdicts[best] as Verdict).score) best = index;
  }
  const verdict = verdicts[best] ?? critiqueText('');
  const reason =
    verdicts.length === 0
      ? 'No candidate text was found in the request.'
      : `Candidate ${best + 1} of ${verdicts.length} scores ${verdict.score}/10 on the rubric; ${
          verdict.decision === 'approve'
            ? 'it has no major issue left'
            : `${blocking(verdict)} major issue(s) remain`
        }.`;
  const extra = {
    winner: best + 1,
    winnerIndex: Math.max(0, best),
    best: best + 1,
    choice: best + 1,
    reason,
    rationale: reason,
  };
  return finalAnswer(
    context,
    { ...verdict, ...extra },
    {
      lookup: lookupIn(extra, verdictAliases(verdict)),
      render: () => `${renderVerdict(verdict, 'judge')}\n${reason}`,
    },
  );
}

function latestInput(context: TurnContext): unknown {
  const users = context.messages.filter((message) => message.role === 'user');
  for (const message of [...users].reverse()) {
    const json = extractJson(message.content);
    if (json !== undefined && collectCandidates(json).length > 0) return json;
  }
  return users.at(-1)?.content ?? '';
}

function assess(candidate: Candidate): Verdict {
  if (candidate.kind === 'text') return critiqueText(candidate.text);
  if (candidate.sources) return reviewDraft({ draft: candidate.draft, sources: candidate.sources });
  return critiqueText(renderDraft(candidate.draft));
}

/**
 * Drafts and texts in the value, in document order (the last is the latest). A string counts when it
 * sits under a candidate-like key (or is the whole input), or when it is long enough to be prose.
 */
export function collectCandidates(value: unknown, depth = 0, named = true): Candidate[] {
  if (depth > 6) return [];
  if (typeof value === 'string') {
    return wordCount(value) >= (named ? 1 : 30) ? [{ kind: 'text', text: value }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item) => collectCandidates(item, depth + 1, named));
  if (typeof value !== 'object' || value === null) return [];
  const draft = draftSchema.safeParse(value);
  if (draft.success) return [{ kind: 'draft', draft: draft.data }];
  const record = value as Record<string, unknown>;
  const nested = draftSchema.safeParse(record.draft);
  if (nested.success) {
    const sources = sourceRefSchema.array().safeParse(record.sources);
    return [{ kind: 'draft', draft: nested.data, ...(sources.success ? { sources: sources.data } : {}) }];
  }
  // When the input names its candidate, critiques and other fields around it are not candidates.
  if ('candidate' in record) return collectCandidates(record.candidate, depth + 1, true);
  const others = Object.keys(record).filter((key) => !CANDIDATE_KEYS.includes(key));
  return [
    ...others.flatMap((key) => collectCandidates(record[key], depth + 1, false)),
    ...CANDIDATE_KEYS.filter((key) => key in record).flatMap((key) =>
      collectCandidates(record[key], depth + 1, true),
    ),
  ];
}

function blocking(verdict: Verdict): number {
  return verdict.issues.filter((issue) => issue.severity !== 'minor').length;
}

function verdictAliases(verdict: Verdict): Record<string, unknown> {
  const approved = verdict.decision === 'approve';
  const feedback = renderIssues(verdict);
  return {
    approved,
    approve: approved,
    accept: approved,
    accepted: approved,
    done: approved,
    verdict: verdict.decision,
    feedback,
    critique: feedback,
    comments: feedback,
    reason: feedback,
    rationale: feedback,
    summary: feedback,
  };
}

function verdictLookup(verdict: Verdict) {
  return lookupIn(verdict, verdictAliases(verdict));
}

function renderIssues(verdict: Verdict): string {
  if (verdict.issues.length === 0) return 'No issues found.';
  return verdict.issues
    .map((issue) => `[${issue.severity}] ${issue.problem} Suggestion: ${issue.suggestion}`)
    .join('\n');
}

function renderVerdict(verdict: Verdict, role: 'critic' | 'judge'): string {
  const head = verdict.decision === 'approve' ? 'APPROVED' : 'REVISE';
  return `${head} (score ${verdict.score}/10; ${role} played by the ${OFFLINE_LABEL})\n${renderIssues(verdict)}`;
}
