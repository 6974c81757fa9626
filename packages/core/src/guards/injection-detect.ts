/**
 * Prompt-injection heuristics (see injection.ts): the text is normalized (injection-normalize.ts), the
 * rules (injection-rules.ts) look for instructions aimed at the model, and the findings are combined
 * into a score: a category counts once (its strongest match), score = 1 − Π(1 − weight). A match inside
 * quotes in a text that talks about injection weighs a third. Hidden Unicode tag text and base64 blobs
 * are decoded and scanned too.
 */
import { Buffer } from 'node:buffer';
import { anyRuleMatches } from './injection-gate.js';
import { asciiNormalized, isAscii, type Normalized, normalizeForInjection } from './injection-normalize.js';
import { RULES } from './injection-rules.js';
import type { GuardFinding } from './types.js';
import { allMatches } from './walk.js';

export interface InjectionFinding extends GuardFinding {
  kind: 'injection';
  /** The rule, e.g. `override`, `role_marker`, `exfiltration`, `hidden_text`. */
  note: string;
  score: number;
}

export interface InjectionReport {
  /** 0–1. */
  score: number;
  findings: InjectionFinding[];
}

/** Words that mark a text as talking ABOUT injection, not doing it. */
const DISCUSSION =
  /\b(?:prompt\s+injections?|injection\s+attacks?|jailbreak(?:s|ing)?|attackers?|red[\s-]team(?:ing|ers)?|researchers?|phrases?\s+(?:like|such\s+as)|for\s+example|e\.g\.|such\s+as|classifier|detector|detect(?:s|ing|ion)?|filters?|payloads?|owasp|security\s+training|awareness)\b/;

/** Words before a quotation that report or cite it: `they say "..."`, `phrases like "..."`. */
const CITING =
  /(?:says?|said|saying|like|as|e\.g\.|phrases?|strings?|words?|text|reads?|wrote|writes|called|payloads?|example)\s{0,3}[:,]?\s{0,3}$/;

/** Whether `index` is inside a quotation that the text talks about (see DISCUSSION and CITING). */
function quoted(text: string, index: number, discussion: () => boolean): boolean {
  const opening = openingQuote(text, index);
  if (opening === -1) return false;
  return discussion() || CITING.test(text.slice(Math.max(0, opening - 40), opening));
}

/** Whether `text` holds at least one of `chars`. */
function containsAny(text: string, chars: string): boolean {
  for (let index = 0; index < chars.length; index++) {
    if (text.includes(chars[index] as string)) return true;
  }
  return false;
}

/** The offset of the quote mark that opens the quotation `index` is in (same line, 160 characters), or -1. */
function openingQuote(text: string, index: number): number {
  // Back to the line's start, at most 160 characters (lastIndexOf would scan the whole text).
  let start = index;
  while (start > 0 && index - start < 160 && text[start - 1] !== '\n') start--;
  let opening = -1;
  for (let position = start; position < index; position++) {
    const char = text[position] as string;
    let mark = '"“”`«»'.includes(char);
    if (char === "'" || char === '‘' || char === '’') {
      const before = text[position - 1];
      const after = text[position + 1];
      // Quote marks, not apostrophes: after a space or an opening bracket, or before one.
      mark =
        before === undefined || /[\s([{:]/.test(before) || (after !== undefined && /[\s.,;:!?)]/.test(after));
    }
    if (mark) opening = opening === -1 ? position : -1;
  }
  return opening;
}

const BASE64 = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,8192}={0,2}(?![A-Za-z0-9+/=])/g;

function decodedBase64(blob: string): string | undefined {
  try {
    const bytes = Buffer.from(blob, 'base64');
    if (bytes.length < 16) return undefined;
    let printable = 0;
    for (const byte of bytes)
      if ((byte >= 32 && byte < 127) || byte === 10 || byte === 13 || byte === 9) printable++;
    if (printable / bytes.length < 0.9) return undefined;
    return bytes.toString('latin1');
  } catch {
    return undefined;
  }
}

/** Whether `text` has a run of 24 base64 characters: every match of BASE64 does. */
function hasBase64Run(text: string): boolean {
  let run = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const base64 =
      (code >= 48 && code <= 57) ||
      (code >= 65 && code <= 90) ||
      (code >= 97 && code <= 122) ||
      code === 43 ||
      code === 47;
    run = base64 ? run + 1 : 0;
    if (run >= 24) return true;
  }
  return false;
}

/** What a scan found: each finding with the category it counts in (one per category in the score). */
class Found {
  readonly findings: InjectionFinding[] = [];
  readonly categories: string[] = [];

  add(finding: InjectionFinding, category: string): void {
    this.findings.push(finding);
    this.categories.push(category);
  }

  score(): number {
    const strongest = new Map<string, number>();
    for (let index = 0; index < this.findings.length; index++) {
      const finding = this.findings[index] as InjectionFinding;
      const category = this.categories[index] ?? finding.note;
      strongest.set(category, Math.max(strongest.get(category) ?? 0, finding.score));
    }
    let keep = 1;
    for (const weight of strongest.values()) keep *= 1 - weight;
    return Math.round((1 - keep) * 1000) / 1000;
  }
}

/**
 * The findings in `text`, or undefined when there are none. Most text matches no rule and hides nothing:
 * that is settled by one pass over the text (injection-gate.ts) and a look at what normalization counted, before
 * anything is allocated for findings (a guard scans every string of every stage).
 */
function scan(text: string, depth: number): Found | undefined {
  // ASCII text (most text) hides nothing, and its normalization is its lower case: decided first.
  const ascii = isAscii(text);
  const lower = ascii ? text.toLowerCase() : undefined;
  const normalized = lower === undefined ? normalizeForInjection(text) : undefined;
  const anyRule = anyRuleMatches(lower ?? (normalized as Normalized).text);
  const hidden =
    normalized !== undefined &&
    (normalized.invisibleInWords > 0 || normalized.bidi > 0 || normalized.tagText.trim() !== '');
  // A base64 blob is 24 characters at least.
  const blobs = depth === 0 && text.length >= 24 && hasBase64Run(text);
  if (!anyRule && !hidden && !blobs) return undefined;
  return scanned(text, depth, normalized ?? asciiNormalized(lower as string), anyRule, blobs);
}

/** What `scan` finds in a text that matched a rule, hides something, or may carry a base64 blob. */
function scanned(
  text: string,
  depth: number,
  normalized: Normalized,
  anyRule: boolean,
  blobs: boolean,
): Found | undefined {
  const found = new Found();
  if (anyRule) matchRules(text, normalized, found);
  if (normalized.invisibleInWords > 0) {
    found.add(
      {
        kind: 'injection',
        note: 'hidden_text',
        score: normalized.invisibleInWords >= 3 ? 0.45 : 0.3,
      } as InjectionFinding,
      'hidden_text',
    );
  }
  if (normalized.bidi > 0)
    found.add({ kind: 'injection', note: 'bidi_controls', score: 0.2 } as InjectionFinding, 'bidi');
  if (normalized.tagText.trim() !== '') {
    found.add({ kind: 'injection', note: 'unicode_tag_text', score: 0.7 } as InjectionFinding, 'tag_text');
    const inner = depth === 0 ? scan(normalized.tagText, depth + 1) : undefined;
    if (inner) {
      inner.findings.forEach((finding, index) => {
        const { start: _start, end: _end, ...rest } = finding;
        found.add({ ...rest, note: `tag_text:${finding.note}` }, inner.categories[index] ?? finding.note);
      });
    }
  }
  if (blobs) {
    for (const match of allMatches(BASE64, text)) {
      const decoded = decodedBase64(match[0]);
      if (!decoded) continue;
      const inner = scan(decoded, depth + 1);
      if (!inner) continue;
      const start = match.index;
      const end = start + match[0].length;
      found.add({ kind: 'injection', note: 'base64_instructions', score: 0.6, start, end }, 'encoded');
      inner.findings.forEach((finding, index) => {
        found.add(
          { ...finding, note: `base64:${finding.note}`, start, end },
          inner.categories[index] ?? finding.note,
        );
      });
    }
  }
  return found.findings.length > 0 ? found : undefined;
}

/** Every match of every rule in the normalized text, at its offsets in `text`. */
function matchRules(text: string, normalized: Normalized, found: Found): void {
  const { map, text: lower } = normalized;
  // Whether the text talks about injection matters only for a match inside quotes: asked then, once.
  let discussion: boolean | undefined;
  const isDiscussion = () => {
    discussion ??= DISCUSSION.test(lower);
    return discussion;
  };
  let obfuscated = false;
  for (const rule of RULES) {
    if (rule.needs !== undefined && !containsAny(lower, rule.needs)) continue;
    for (const match of allMatches(rule.pattern, lower)) {
      const from = match.index;
      const to = from + match[0].length;
      let weight = rule.weight;
      if (quoted(lower, from, isDiscussion)) weight = Math.round((weight / 3) * 1000) / 1000;
      const start = map ? (map[from] as number) : from;
      const end = map ? (map[to] ?? text.length) : to;
      found.add({ kind: 'injection', note: rule.id, score: weight, start, end }, rule.category);
      if (!obfuscated && normalized.lookalike) {
        for (let position = from; position < to; position++) {
          if (normalized.lookalike[position]) {
            obfuscated = true;
            found.add({ kind: 'injection', note: 'homoglyphs', score: 0.4, start, end }, 'obfuscation');
            break;
          }
        }
      }
    }
  }
}

/** `detectInjection`, but undefined when nothing was found (the guard's common case, with nothing to allocate). */
export function injectionReport(text: string): InjectionReport | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const found = scan(text, 0);
  return found ? { score: found.score(), findings: found.findings } : undefined;
}

/**
 * Scores `text` for prompt injection: `score` 0–1 (1 − Π(1 − weight) over the categories found) and
 * findings naming the rule and the offsets in `text`, never the text. Never throws.
 */
export function detectInjection(text: string): InjectionReport {
  return injectionReport(text) ?? { score: 0, findings: [] };
}
