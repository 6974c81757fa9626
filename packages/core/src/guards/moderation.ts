/**
 * Content moderation: a classifier interface, an offline keyword classifier (a word list, not a model),
 * and the guard that trips on what a classifier flags. The OpenAI moderation adapter is in
 * moderation-openai.ts.
 */
import { BatonError } from '../errors.js';
import { textOf } from './length.js';
import {
  type Guard,
  type GuardContext,
  type GuardFinding,
  type GuardStage,
  type GuardVerdict,
  PASS,
} from './types.js';
import { describeValue, messageOf } from './walk.js';

export interface ModerationResult {
  /** The classifier's own verdict. */
  flagged: boolean;
  /** Score per category, 0–1 (`harassment`, `violence`, `self-harm`, ...). */
  categories: Record<string, number>;
}

export interface ModerationClassifier {
  /** Named in reasons: `openai:omni-moderation-latest`, `keywords`. */
  readonly name?: string;
  classify(text: string, signal?: AbortSignal): Promise<ModerationResult>;
  /**
   * The same answer without waiting, for a classifier that never needs to (a word list): the guard then
   * decides in the same tick, with no promise or timer per check.
   */
  classifyNow?(text: string): ModerationResult;
}

export interface KeywordModerationOptions {
  /** Words and phrases per category; strings match whole words, case-insensitively; RegExps as given. */
  categories: Record<string, readonly (string | RegExp)[]>;
  /** Default `keywords`. */
  name?: string;
}

const NON_ASCII = /[\u0080-\uffff]/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * An offline KEYWORD classifier: it is not a model and understands nothing. A category scores 1 when one
 * of its words or phrases occurs in the text (whole words, any case, after Unicode NFKC normalization,
 * so full-width letters count), else 0; the text is flagged when any category scores 1. Use it for
 * fixed lists (banned product names, slurs your team maintains) or as a fallback without a network.
 */
export function keywordModeration(options: KeywordModerationOptions): ModerationClassifier {
  if (!options || typeof options.categories !== 'object' || options.categories === null) {
    throw new BatonError('CONFIG_INVALID', 'keywordModeration: "categories" must map names to word lists');
  }
  const matchers = Object.entries(options.categories).map(([category, words]) => {
    if (!Array.isArray(words)) {
      throw new BatonError(
        'CONFIG_INVALID',
        `keywordModeration: category "${category}" needs a list of words`,
      );
    }
    const literal = words.filter((word): word is string => typeof word === 'string' && word.trim() !== '');
    const patterns = words.filter((word): word is RegExp => word instanceof RegExp);
    const alternation = literal
      .map((word) => escapeRegExp(word.normalize('NFKC').toLowerCase().trim()).replace(/\s+/g, '\\s+'))
      .join('|');
    return { category, alternation, combined: wholeWords(alternation), patterns };
  });
  // Every category's words in one search: most text has none of them, and then no category needs its
  // own search (each matches exactly when its part of this one does: the same words, the same bounds).
  const anyWord = wholeWords(
    matchers
      .map((matcher) => matcher.alternation)
      .filter((alternation) => alternation !== '')
      .join('|'),
  );
  const classifyNow = (text: string): ModerationResult => {
    const raw = String(text);
    // NFKC leaves ASCII as it is: only a text with other characters needs the (costly) normalization.
    const normalized = (NON_ASCII.test(raw) ? raw.normalize('NFKC') : raw).toLowerCase();
    const anyHit = anyWord?.test(normalized) ?? false;
    const categories: Record<string, number> = {};
    let flagged = false;
    for (const { category, combined, patterns } of matchers) {
      let hit = anyHit && (combined?.test(normalized) ?? false);
      for (let index = 0; !hit && index < patterns.length; index++) {
        const pattern = patterns[index] as RegExp;
        pattern.lastIndex = 0;
        hit = pattern.test(text) || pattern.test(normalized);
      }
      categories[category] = hit ? 1 : 0;
      flagged ||= hit;
    }
    return { flagged, categories };
  };
  return {
    name: options.name ?? 'keywords',
    classify: async (text: string) => classifyNow(text),
    classifyNow,
  };
}

/** A search for any of `alternation`'s words as whole words (not inside a longer word), or undefined. */
function wholeWords(alternation: string): RegExp | undefined {
  return alternation === ''
    ? undefined
    : new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternation})(?![\\p{L}\\p{N}_])`, 'u');
}

export interface ModerationGuardOptions {
  classifier: ModerationClassifier;
  /**
   * Trip when a category scores at least this (0–1). Without it, the classifier's own `flagged` decides.
   */
  threshold?: number;
  /** Default: every stage it is listed under (typically `output`, and `input`). */
  stages?: readonly GuardStage[];
  /** Default `moderation`. */
  name?: string;
  /** Longest a check may take (default: the run's guard default, 5 s). */
  timeoutMs?: number;
}

function validResult(result: unknown): result is ModerationResult {
  if (typeof result !== 'object' || result === null) return false;
  const { flagged, categories } = result as Partial<ModerationResult>;
  if (typeof flagged !== 'boolean' || typeof categories !== 'object' || categories === null) return false;
  return Object.values(categories).every((score) => typeof score === 'number' && !Number.isNaN(score));
}

/**
 * A guard that asks a moderation classifier about the value (a string, or the JSON of anything else)
 * and trips when it is flagged (or, with `threshold`, when a category scores at least that). A
 * classifier that throws, is aborted or answers nonsense trips too: moderation fails closed.
 */
export function moderationGuard(options: ModerationGuardOptions): Guard {
  const { classifier, threshold } = options;
  if (!classifier || typeof classifier.classify !== 'function') {
    throw new BatonError(
      'CONFIG_INVALID',
      'moderationGuard: "classifier" must have a classify(text, signal) method',
    );
  }
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new BatonError(
      'CONFIG_INVALID',
      `moderationGuard: "threshold" must be between 0 and 1, got ${threshold}`,
    );
  }
  const name = options.name ?? 'moderation';
  const who = classifier.name ? `the classifier ${classifier.name}` : 'the classifier';
  const judge = (result: unknown, context: GuardContext): GuardVerdict => {
    if (!validResult(result)) {
      return { action: 'trip', reason: `${name}: ${who} returned no valid verdict` };
    }
    // Nothing to report (the common case): decided without sorting the scores.
    if (
      threshold === undefined
        ? !result.flagged
        : !Object.values(result.categories).some((score) => score >= threshold)
    ) {
      return PASS;
    }
    const scores = Object.entries(result.categories).sort((a, b) => b[1] - a[1]);
    const over =
      threshold === undefined
        ? result.flagged
          ? scores.filter(([, score]) => score >= 0.5)
          : []
        : scores.filter(([, score]) => score >= threshold);
    const tripped = threshold === undefined ? result.flagged : over.length > 0;
    if (!tripped) return PASS;
    const listed = (over.length > 0 ? over : scores.slice(0, 3)).slice(0, 5);
    const findings: GuardFinding[] = listed.map(([category, score]) => ({
      kind: 'moderation',
      note: category,
      score,
    }));
    const summary = listed.map(([category, score]) => `${category} ${score.toFixed(2)}`).join(', ');
    return {
      action: 'trip',
      reason: `${name}: ${describeValue(context)} was flagged by ${who}${summary ? `: ${summary}` : ''}`,
      findings,
    };
  };
  const classifyLater = async (text: string, context: GuardContext): Promise<GuardVerdict> => {
    let result: unknown;
    try {
      result = await classifier.classify(text, context?.signal);
    } catch (error) {
      return { action: 'trip', reason: `${name}: ${who} failed (${messageOf(error)})` };
    }
    return judge(result, context);
  };
  return {
    name,
    ...(options.stages ? { stages: options.stages } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    check(value: unknown, context: GuardContext): GuardVerdict | Promise<GuardVerdict> {
      const text = textOf(value);
      // Not blank when it starts with a printable ASCII character: trim() (a copy) only otherwise.
      const first = text.charCodeAt(0);
      if (!(first > 32 && first < 127) && text.trim() === '') return PASS;
      if (classifier.classifyNow) {
        let result: unknown;
        try {
          result = classifier.classifyNow(text);
        } catch (error) {
          return { action: 'trip', reason: `${name}: ${who} failed (${messageOf(error)})` };
        }
        return judge(result, context);
      }
      return classifyLater(text, context);
    },
  };
}
