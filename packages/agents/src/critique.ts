import type { ReviewIssue, Verdict } from './contracts.js';
import { inlineCitations } from './render.js';
import { CLOSING_HEADING, verdictFrom } from './rubric.js';
import { clip, sentences, wordCount } from './text.js';

/** Rules of the prose critique (for debates, where there may be no sources to check against). */
export interface CritiqueOptions {
  /** Fewest words; default 60. */
  minWords: number;
  /** Sentences longer than this many words are flagged (minor); default 45. */
  maxSentenceWords: number;
  /** A closing paragraph or section that concludes; default true. */
  requireConclusion: boolean;
  /** At least one inline `[id]` citation; default false. */
  requireCitations: boolean;
}

export const DEFAULT_CRITIQUE: Readonly<CritiqueOptions> = Object.freeze({
  minWords: 60,
  maxSentenceWords: 45,
  requireConclusion: true,
  requireCitations: false,
});

const VAGUE = /\b(very|really|basically|stuff|a lot of|kind of|sort of|somehow|etc\.?)(?=\W|$)/gi;
const ABSOLUTE = /\b(always|never|guarantee[sd]?|impossible|everyone|nobody)\b/i;
const CONCLUDING =
  /^(in (short|summary|conclusion)|overall|to (sum up|conclude)|taken together|in practice|the upshot)\b/i;

/**
 * Critiques a text with deterministic rules: length, a conclusion, long sentences, vague words,
 * absolute claims, repeated sentences and (optionally) citations. Any major issue means "revise".
 */
export function critiqueText(text: string, options: Partial<CritiqueOptions> = {}): Verdict {
  const rules = { ...DEFAULT_CRITIQUE, ...options };
  const issues: ReviewIssue[] = [];
  const words = wordCount(text);
  if (words < rules.minWords) {
    issues.push({
      severity: 'major',
      rule: 'too-short',
      problem: `The text has ${words} words; it needs at least ${rules.minWords} to make its case.`,
      suggestion: 'Develop the main points with the evidence behind them.',
    });
  }
  if (rules.requireConclusion && !hasConclusion(text)) {
    issues.push({
      severity: 'major',
      rule: 'closing-section',
      problem: 'The text has no conclusion: it never says what the reader should take away or do.',
      suggestion: 'End with a short "Recommendations" or "Conclusion" part that draws the points together.',
    });
  }
  if (rules.requireCitations && inlineCitations(text).length === 0) {
    issues.push({
      severity: 'major',
      rule: 'section-uncited',
      problem: 'The text cites no source for its claims.',
      suggestion: 'Mark each claim with the [id] of the source it comes from.',
    });
  }
  const all = sentences(text);
  const long = all.filter((sentence) => wordCount(sentence) > rules.maxSentenceWords);
  for (const sentence of long.slice(0, 3)) {
    issues.push({
      severity: 'minor',
      rule: 'long-sentence',
      problem: `"${clip(sentence, 160)}" runs to ${wordCount(sentence)} words.`,
      suggestion: 'Split it into two sentences.',
    });
  }
  const vague = [...new Set((text.match(VAGUE) ?? []).map((word) => word.toLowerCase()))];
  if (vague.length > 0) {
    issues.push({
      severity: 'minor',
      rule: 'vague-language',
      problem: `Vague words weaken the text: ${vague.join(', ')}.`,
      suggestion: 'Remove them or replace them with something specific.',
    });
  }
  const absolute = all.find((sentence) => ABSOLUTE.test(sentence));
  if (absolute) {
    issues.push({
      severity: 'minor',
      rule: 'absolute-claim',
      problem: `"${clip(absolute, 160)}" is an absolute claim.`,
      suggestion: 'Check that it holds without exception, or soften it.',
    });
  }
  const seen = new Set<string>();
  for (const sentence of all) {
    const key = sentence.toLowerCase().replace(/\W+/g, ' ').trim();
    if (key.length > 20 && seen.has(key)) {
      issues.push({
        severity: 'minor',
        rule: 'repetition',
        problem: `"${clip(sentence, 160)}" appears more than once.`,
        suggestion: 'Keep one occurrence.',
      });
      break;
    }
    seen.add(key);
  }
  return verdictFrom(issues);
}

function hasConclusion(text: string): boolean {
  const headings = text.split('\n').filter((line) => /^\s*#{1,6}\s/.test(line));
  if (headings.slice(1).some((heading) => CLOSING_HEADING.test(heading))) return true;
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('#') && !/^[-*]\s/.test(p));
  const last = paragraphs.at(-1);
  return last !== undefined && paragraphs.length > 1 && CONCLUDING.test(last);
}
