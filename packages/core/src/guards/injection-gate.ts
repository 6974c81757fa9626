/**
 * Whether any injection rule (injection-rules.ts) matches a normalized text, without running them all.
 *
 * The rules joined into one regex compile to about 420 KB of regex bytecode, and their native code was
 * the single largest cost of the guards on a step: a search costs ~30 ns per character warm, and many
 * times that when the code has left the processor's caches between two checks, as it has in a run. Yet
 * every match of a rule begins in one of a few ways, listed as its `starts` (a word such as `ignore` at
 * a word's start, a character such as `<`, the text's start). One pass over the text looks those up in
 * tables (by a character, by a word's first two); a rule is run, anchored at that offset, only where one
 * of its starts occurs. Most text has none, and most starts found lead to no match within a few
 * characters. A rule whose matches begin anywhere (`~display`) is run whole when the text contains it.
 *
 * Sound as long as each rule's `starts` are: a match of a rule begins at an offset where one of its
 * starts occurs, that offset is visited, and the rule is tried there; so the answer is the one the
 * joined regex would give. (Checked against it on the test corpora, 1.5 million generated texts and
 * strings generated from each rule's pattern, when the gate was written.)
 */
import { RULES, type Rule } from './injection-rules.js';

interface Start {
  /** The text the start is (lower case). */
  text: string;
  /** `whole`: a whole word at a word's start; `prefix`: at a word's start; `char`: anywhere. */
  kind: 'whole' | 'prefix' | 'char';
  /** The rules that may begin so, anchored (sticky) copies of their patterns. */
  rules: RegExp[];
}

/** Word characters as `\b` sees them without the `u` flag. */
function isWord(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95 || (code >= 65 && code <= 90)
  );
}

/** Starts that are a character, by its code (all ASCII). */
const BY_CHAR: (Start[] | undefined)[] = [];
/**
 * Starts that are words (two characters at least), by the codes of their first two characters: at a
 * word's start, the second character already rules out all but a few.
 */
const BY_PAIR: (Start[] | undefined)[] = new Array(128 * 128).fill(undefined);
/** Rules that may match at the text's start. */
const AT_START: RegExp[] = [];
/** Rules whose matches contain one of `texts` anywhere, and one of the characters `needs`. */
const CONTAINING: { texts: readonly string[]; needs: string; rule: RegExp }[] = [];

function indexRule(rule: Rule): void {
  const anchored = new RegExp(rule.pattern.source, 'y');
  const containing: string[] = [];
  for (const start of rule.starts) {
    if (start === '^') {
      AT_START.push(anchored);
      continue;
    }
    if (start.startsWith('~')) {
      containing.push(start.slice(1));
      continue;
    }
    const kind = !isWord(start.charCodeAt(0)) ? 'char' : start.endsWith('*') ? 'prefix' : 'whole';
    const text = kind === 'prefix' ? start.slice(0, -1) : start;
    const first = text.charCodeAt(0);
    const second = text.charCodeAt(1);
    const fits = kind === 'char' ? text.length === 1 : text.length >= 2 && second < 128;
    if (!(first < 128) || !fits) {
      throw new Error(`injection rule ${rule.id}: unsupported start ${JSON.stringify(start)}`);
    }
    const table = kind === 'char' ? BY_CHAR : BY_PAIR;
    const key = kind === 'char' ? first : first * 128 + second;
    const bucket = table[key] ?? [];
    table[key] = bucket;
    let entry = bucket.find((known) => known.text === text && known.kind === kind);
    if (!entry) {
      entry = { text, kind, rules: [] };
      bucket.push(entry);
    }
    if (!entry.rules.includes(anchored)) entry.rules.push(anchored);
  }
  if (containing.length > 0) {
    CONTAINING.push({ texts: containing, needs: rule.needs ?? '', rule: new RegExp(rule.pattern.source) });
  }
}

for (const rule of RULES) indexRule(rule);

/**
 * What a text must begin with for a rule with the start `^` to match there: blanks, then `#`, `*` or
 * `[` (role_header), a role name (transcript_turn), or a name for the model (ai_vocative). Checked once,
 * before those rules are tried at offset 0.
 */
const START_OF_TEXT =
  /^[ \t]{0,4}(?:[#*[]|system|assistant|human)|^(?:ai|a\.i\.|llm|language|assistant|chatbot|gpt|chatgpt|claude|gemini|copilot|agent|bot|model)/;
/** The first characters START_OF_TEXT can match: other texts skip the regex. */
const MAY_START = new Uint8Array(128);
for (const char of ' \t#*[sahlgcbm') MAY_START[char.charCodeAt(0)] = 1;
const START_RULES = new Set(['role_header', 'transcript_turn', 'ai_vocative']);
for (const rule of RULES) {
  if (rule.starts.includes('^') && !START_RULES.has(rule.id)) {
    throw new Error(`injection rule ${rule.id}: START_OF_TEXT does not cover its start "^"`);
  }
}

function tryAt(rules: readonly RegExp[], text: string, offset: number): boolean {
  for (const rule of rules) {
    rule.lastIndex = offset;
    if (rule.test(text)) return true;
  }
  return false;
}

function tryStarts(starts: readonly Start[], text: string, offset: number): boolean {
  for (const start of starts) {
    if (!text.startsWith(start.text, offset)) continue;
    if (start.kind === 'whole' && isWord(text.charCodeAt(offset + start.text.length))) continue;
    if (tryAt(start.rules, text, offset)) return true;
  }
  return false;
}

/** Whether `text` contains one of `parts` (strings, or the characters of a string). */
function containsAny(text: string, parts: readonly string[] | string): boolean {
  for (let index = 0; index < parts.length; index++) {
    if (text.includes(parts[index] as string)) return true;
  }
  return false;
}

/** Whether at least one rule matches `text` (normalized, lower case) somewhere. */
export function anyRuleMatches(text: string): boolean {
  if (MAY_START[text.charCodeAt(0)] === 1 && START_OF_TEXT.test(text) && tryAt(AT_START, text, 0))
    return true;
  for (const { texts, needs, rule } of CONTAINING) {
    if ((needs === '' || containsAny(text, needs)) && containsAny(text, texts) && rule.test(text))
      return true;
  }
  let previousWord = false;
  for (let offset = 0; offset < text.length; offset++) {
    const code = text.charCodeAt(offset);
    const word = isWord(code);
    let starts: Start[] | undefined;
    if (!word) starts = code < 128 ? BY_CHAR[code] : undefined;
    else if (!previousWord) {
      // A word's start (`\b` before it): what its first two characters may begin.
      const next = text.charCodeAt(offset + 1);
      starts = next < 128 ? BY_PAIR[code * 128 + next] : undefined;
    }
    if (starts !== undefined && tryStarts(starts, text, offset)) return true;
    previousWord = word;
  }
  return false;
}
