export { editDistance } from '@baton/core';

/**
 * Small, deterministic text helpers shared by the search index, the review rubric and the offline model.
 * English-only and rule-based on purpose: they must give the same answer on every machine.
 */

const STOP_WORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having how ' +
    'i if in into is it its itself just me more most my no nor not of off on once only or other our ours ' +
    'out over own same she should so some such than that the their theirs them then there these they this ' +
    'those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours about above after again against all also any because before below between ' +
    'both each few further here least many may might much must one ones per let lets use used using via ' +
    'without within upon whether yet get gets got make makes made way ways thing things often usually ' +
    'every rather instead even still already'
  ).split(' '),
);

/** Lower-cased word tokens (letters, digits, inner hyphens and apostrophes kept). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:['’-][a-z0-9]+)*/g) ?? [];
}

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/**
 * A deliberately light suffix stripper so that "retries" finds "retry" and "timeouts" finds "timeout".
 * It is applied to both the index and the query, so consistency matters more than linguistics.
 */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ing') && word.length > 5) return trimDouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4 && !word.endsWith('eed')) return trimDouble(word.slice(0, -2));
  if (word.endsWith('es') && /(?:ch|sh|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function trimDouble(word: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(word) && !/(?:ll|ss|zz)$/.test(word) ? word.slice(0, -1) : word;
}

/** Content words of a text, stemmed, in first-seen order, without duplicates. */
export function keywords(text: string): string[] {
  const seen = new Set<string>();
  for (const token of tokenize(text)) {
    for (const part of token.split(/['’-]/)) {
      if (part.length < 2 || isStopWord(part) || /^\d+$/.test(part)) continue;
      seen.add(stem(part));
    }
  }
  return [...seen];
}

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/** Splits prose into sentences; Markdown headings and list markers are dropped first. */
export function sentences(text: string): string[] {
  const prose = text
    .split('\n')
    .map((line) => line.replace(/^\s*(?:#{1,6}\s+|[-*+]\s+|\d+\.\s+)/, '').trim())
    .join('\n');
  const result: string[] = [];
  for (const paragraph of prose.split(/\n\s*\n/)) {
    const flat = paragraph.replace(/\s+/g, ' ').trim();
    if (flat === '') continue;
    for (const sentence of flat.split(/(?<=[.!?])\s+(?=["'“([]?[A-Z0-9])/)) {
      const trimmed = sentence.trim();
      if (trimmed !== '') result.push(trimmed);
    }
  }
  return result;
}

/** Share of `wanted` keywords present in `have` (0 when nothing is wanted). */
export function coverage(wanted: readonly string[], have: ReadonlySet<string>): number {
  if (wanted.length === 0) return 0;
  let hits = 0;
  for (const word of wanted) if (have.has(word)) hits++;
  return hits / wanted.length;
}

/** Cuts text to at most `max` characters on a word boundary, with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}

const SMALL_WORDS = new Set([
  'a',
  'an',
  'and',
  'as',
  'at',
  'but',
  'by',
  'for',
  'in',
  'of',
  'on',
  'or',
  'the',
  'to',
  'vs',
  'with',
]);

/** "running agents in production" → "Running Agents in Production". */
export function titleCase(text: string): string {
  return text
    .trim()
    .split(/\s+/)
    .map((word, index) =>
      index > 0 && SMALL_WORDS.has(word.toLowerCase())
        ? word.toLowerCase()
        : word.charAt(0).toUpperCase() + word.slice(1),
    )
    .join(' ');
}

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

/** "three" for 3, digits past twelve: prose reads better, and the rubric treats digits as statistics. */
export function countWord(count: number): string {
  return NUMBER_WORDS[count] ?? String(count);
}
