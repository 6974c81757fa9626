/**
 * The prompt-injection rules (injection.ts): patterns on normalized, lower-case text, each with a weight
 * and a category. Gaps between words are bounded: every rule is linear. The rules themselves are in
 * injection-rules-instructions.ts (about the model's instructions and role) and injection-rules-actions.ts
 * (about what it is asked to do).
 */
import { ACTION_RULES } from './injection-rules-actions.js';
import { INSTRUCTION_RULES } from './injection-rules-instructions.js';

export interface Rule {
  id: string;
  /** Rules of one category count once. */
  category: string;
  weight: number;
  pattern: RegExp;
  /**
   * Characters of which every match of `pattern` contains at least one (`<` or `[` for a role marker):
   * a text with none of them is not searched. Only for rules where that holds by construction.
   */
  needs?: string;
  /**
   * How every match of `pattern` begins (see injection-gate.ts): `word` — that whole word at a word's
   * start; `word*` — a word starting so; `<`, `\n`, ... — that character, anywhere; `^` — the text's
   * start; `~word` — the text contains it somewhere. A text where none of a rule's starts occurs is
   * not searched with it, so each entry must hold for every match, by construction of the pattern.
   */
  starts: readonly string[];
}

export const RULES: readonly Rule[] = [...INSTRUCTION_RULES, ...ACTION_RULES];

for (const rule of RULES) {
  // The gate (injection-gate.ts) tests a rule from a given offset: its pattern must be a plain global one.
  if (rule.pattern.flags !== 'g') throw new Error(`injection rule ${rule.id}: flags must be "g"`);
  if (rule.starts.length === 0) throw new Error(`injection rule ${rule.id}: no starts`);
}
