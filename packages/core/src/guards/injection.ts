/**
 * Prompt-injection detection for untrusted text (tool results, web pages, e-mails, documents, other
 * agents' outputs): heuristics with a score, and a guard with a pluggable judge.
 *
 * The text is first normalized, keeping a map back to the original offsets: zero-width and other
 * invisible characters are dropped (and counted), Unicode tag characters (the "ASCII smuggling" trick)
 * are decoded into a hidden text that is checked too, bidi controls are dropped, NFKC folds full-width
 * and mathematical letters, and Cyrillic/Greek look-alikes become Latin letters (a match that needed
 * one is evidence of obfuscation). Base64 blobs are decoded and checked as well.
 *
 * Rules then look for instructions aimed at the model: overriding its instructions, giving it a new role,
 * asking for its system prompt, chat-template role markers, text addressed to "the AI", requests to call
 * tools or run commands, to send data to an address or URL, to keep it from the user. Each rule has a
 * weight; a category counts once (its strongest match); the score is 1 − Π(1 − weight) over the
 * categories found. A match inside quotes in a text that talks about injection ("phrases like 'ignore
 * previous instructions'") weighs a third. The default threshold is 0.5: one strong signal, or two weak
 * ones. These are heuristics: they raise the cost of an attack and catch the common ones, they do not
 * make a model safe (see the taint policy and approvals for that).
 */
import { Buffer } from 'node:buffer';
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
import {
  allMatches,
  formatPath,
  MAX_DEPTH,
  mapStrings,
  messageOf,
  TooDeepError,
  type ValuePath,
} from './walk.js';

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

// ---------------------------------------------------------------------------------------------------
// Normalization.

const INVISIBLE = new Set([
  0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x00ad, 0x180e,
]);
const BIDI = new Set([
  0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

/** Cyrillic and Greek letters that look like Latin ones. */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  ɡ: 'g',
  ο: 'o',
  ν: 'v',
  α: 'a',
  ι: 'i',
  κ: 'k',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ε: 'e',
};

interface Normalized {
  /** Lower case, folded, invisible characters removed. */
  text: string;
  /**
   * `map[i]` is the offset in the original text of `text[i]`; `map[text.length]` is the original length.
   * Undefined when the offsets are the same (an ASCII text, only lower-cased).
   */
  map: Int32Array | undefined;
  /** 1 where a look-alike letter was replaced; undefined when none was. */
  lookalike: Uint8Array | undefined;
  invisibleInWords: number;
  bidi: number;
  /** Text hidden in Unicode tag characters (U+E0000–U+E007F), decoded. */
  tagText: string;
}

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

const NON_ASCII = /[\u0080-\uffff]/g;
const FOLDED = new Map<number, { folded: string; glyph: boolean }>();

/** A non-ASCII character lower-cased, NFKC-folded and, for a look-alike, its Latin letter (cached). */
function fold(code: number): { folded: string; glyph: boolean } {
  let entry = FOLDED.get(code);
  if (!entry) {
    const lower = String.fromCodePoint(code).toLowerCase();
    const glyph = HOMOGLYPHS[lower];
    entry = { folded: glyph ?? lower.normalize('NFKC').toLowerCase(), glyph: glyph !== undefined };
    if (FOLDED.size >= 8192) FOLDED.clear();
    FOLDED.set(code, entry);
  }
  return entry;
}

export function normalizeForInjection(input: string): Normalized {
  NON_ASCII.lastIndex = 0;
  if (!NON_ASCII.test(input)) {
    // ASCII only (most text): lower-casing keeps every offset, and there is nothing else to fold. The
    // typed arrays and parts below were a third of what checking a short text cost.
    NON_ASCII.lastIndex = 0;
    return {
      text: input.toLowerCase(),
      map: undefined,
      lookalike: undefined,
      invisibleInWords: 0,
      bidi: 0,
      tagText: '',
    };
  }
  let map = new Int32Array(input.length + 1);
  const parts: string[] = [];
  const lookalikeIndexes: number[] = [];
  let invisibleInWords = 0;
  let bidi = 0;
  let tagText = '';
  let length = 0;
  const emit = (unit: string, origin: number, lookalike: boolean) => {
    if (length + 1 >= map.length) {
      const grown = new Int32Array(map.length * 2 + 16);
      grown.set(map);
      map = grown;
    }
    parts.push(unit);
    if (lookalike) lookalikeIndexes.push(length);
    map[length++] = origin;
  };
  let cursor = 0;
  NON_ASCII.lastIndex = 0;
  // ASCII runs are lower-cased whole; only the other characters are looked at one by one.
  for (let match = NON_ASCII.exec(input); ; match = NON_ASCII.exec(input)) {
    const runEnd = match ? match.index : input.length;
    if (runEnd > cursor) {
      const run = input.slice(cursor, runEnd).toLowerCase();
      if (length + run.length + 1 >= map.length) {
        const grown = new Int32Array(Math.max(map.length * 2, length + run.length + 16));
        grown.set(map);
        map = grown;
      }
      parts.push(run);
      for (let offset = 0; offset < run.length; offset++) map[length++] = cursor + offset;
    }
    if (!match) break;
    const index = match.index;
    const code = input.codePointAt(index) as number;
    const width = code > 0xffff ? 2 : 1;
    if (INVISIBLE.has(code)) {
      if (isLetter(input.charCodeAt(index - 1)) || isLetter(input.charCodeAt(index + 1))) invisibleInWords++;
    } else if (BIDI.has(code)) {
      bidi++;
    } else if (code >= 0xe0000 && code <= 0xe007f) {
      if (code >= 0xe0020 && code <= 0xe007e) tagText += String.fromCharCode(code - 0xe0000);
    } else {
      const { folded, glyph } = fold(code);
      for (let offset = 0; offset < folded.length; offset++) emit(folded[offset] as string, index, glyph);
    }
    cursor = index + width;
    NON_ASCII.lastIndex = cursor;
  }
  if (length + 1 >= map.length) {
    const grown = new Int32Array(length + 1);
    grown.set(map.subarray(0, length));
    map = grown;
  }
  map[length] = input.length;
  const lookalike = new Uint8Array(length);
  for (const position of lookalikeIndexes) lookalike[position] = 1;
  return { text: parts.join(''), map, lookalike, invisibleInWords, bidi, tagText };
}

// ---------------------------------------------------------------------------------------------------
// Rules (on normalized, lower-case text). Gaps between words are bounded: every rule is linear.

interface Rule {
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
}

const TARGETS =
  '(?:instructions?|prompts?|directions?|directives?|rules|guidelines|commands?|guardrails|restrictions|constraints|programming|polic(?:y|ies)|orders|system\\s+message)';
const AI =
  '(?:ai|a\\.i\\.|llm|language\\s+model|assistant|chatbot|gpt|chatgpt|claude|gemini|copilot|agent|bot|model)';
const DATA =
  '(?:conversation|chat\\s+(?:history|log)|message\\s+history|all\\s+(?:the\\s+)?(?:user\\s+)?data|user\\s+data|(?:api\\s+)?keys|tokens|passwords?|credentials|secrets?|personal\\s+(?:data|information|details)|customer\\s+(?:data|records|list|emails)|contacts|inbox|files|database|system\\s+prompt|documents|previous\\s+messages|everything\\s+above)';
const ADDRESS = '(?:[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}\\.[a-z]{2,24}|https?:\\/\\/[^\\s)>"\']{3,300})';

const RULES: readonly Rule[] = [
  // Overriding the model's instructions.
  {
    id: 'override',
    category: 'override',
    weight: 0.75,
    pattern: new RegExp(
      `\\b(?:ignore|disregard|forget|override|bypass|overrule|abandon|discard|neglect)\\b[^.\\n]{0,40}?\\b(?:previous|prior|above|earlier|preceding|former|original|initial|all|any|your|system|developer|safety|existing)\\b[^.\\n]{0,30}?\\b${TARGETS}\\b`,
      'g',
    ),
  },
  {
    id: 'override_above',
    category: 'override',
    weight: 0.45,
    pattern:
      /\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+|anything\s+)?(?:of\s+)?(?:the\s+|what\s+(?:is|was|you\s+were\s+told)\s+)?(?:above|before|previously|prior|earlier)\b/g,
  },
  {
    id: 'override_task',
    category: 'override',
    weight: 0.45,
    pattern:
      /\b(?:ignore|disregard|forget|abandon|skip)\s+(?:the|your|this|that|my|their)\s+(?:current\s+|original\s+|assigned\s+)?(?:task|request|question|assignment|job|goal|article|page|document|text|content|user(?:'s)?\s+(?:request|question|task))\b/g,
  },
  {
    id: 'redirect',
    category: 'redirect',
    weight: 0.3,
    pattern:
      /\binstead\s*,?\s+(?:you\s+(?:must|should|will|need\s+to)\s+)?(?:reply|respond|send|forward|write|output|say|print|tell|email|call|do|add|delete|run|execute|post|grant)\b/g,
  },
  {
    id: 'new_instructions',
    category: 'override',
    weight: 0.65,
    pattern:
      /\b(?:new|updated|real|actual|true|revised|override|overriding|additional|secret|hidden|priority|model|ai|assistant|agent|llm|bot)\s+(?:system\s+)?(?:instructions?|directives?|orders|task)\s*(?::|-{1,2}|follow)/g,
  },
  {
    id: 'do_not_follow',
    category: 'override',
    weight: 0.6,
    pattern: new RegExp(
      `\\b(?:do\\s+not|don't|never|stop)\\s+(?:follow(?:ing)?|obey(?:ing)?|listen(?:ing)?\\s+to)\\b[^.\\n]{0,30}?\\b(?:${TARGETS}|system|developer|operator)\\b`,
      'g',
    ),
  },
  {
    id: 'priority_claim',
    category: 'override',
    weight: 0.55,
    pattern:
      /\b(?:these|this|the\s+following)\s+(?:instructions?|directives?|message)\s+(?:take|takes|have|has)\s+(?:priority|precedence)\b|\b(?:supersedes?|overrides?)\s+(?:all|any|your)\s+(?:previous|prior|other)\b/g,
  },
  // A new role or mode.
  {
    id: 'new_role',
    category: 'role',
    weight: 0.5,
    pattern:
      /\byou\s+are\s+(?:now|no\s+longer)\b(?!\s+(?:registered|subscribed|unsubscribed|signed|logged|connected|enrolled|eligible|able|ready|part|a\s+member|following|booked|checked|verified|on\s+the|in\s+the|live|set|all\s+set|done|leaving|entering|viewing|watching|listening)\b)|\bfrom\s+now\s+on\b[^.\n]{0,30}?\byou\b|\byour\s+new\s+(?:role|persona|identity|task|goal|objective|instructions?|purpose)\b/g,
  },
  {
    id: 'jailbreak_mode',
    category: 'role',
    weight: 0.55,
    pattern:
      /\b(?:unrestricted|jailbreak|jailbroken|dan|evil|unfiltered|uncensored)\s+mode\b|\bdo\s+anything\s+now\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b|\bwithout\s+(?:any\s+)?(?:restrictions|filters|guardrails|limitations)\b/g,
  },
  {
    id: 'special_mode',
    category: 'role',
    weight: 0.3,
    pattern: /\b(?:developer|god|debug|admin|sudo|maintenance|root)\s+mode\b/g,
  },
  {
    id: 'pretend',
    category: 'role',
    weight: 0.35,
    pattern: /\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b|\broleplay\s+as\b/g,
  },
  // The system prompt.
  {
    id: 'prompt_leak',
    category: 'prompt_leak',
    weight: 0.55,
    pattern:
      /\b(?:reveal|print|show|output|repeat|display|leak|share|tell\s+me|give\s+me|dump|recite|spell\s+out|write\s+out|translate|summari[sz]e)\b[^.\n]{0,30}?\b(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|developer\s+message|system\s+message|(?:your|the)\s+(?:original\s+|initial\s+|hidden\s+)?(?:instructions|prompt|rules|guidelines|configuration))\b/g,
  },
  {
    id: 'prompt_question',
    category: 'prompt_leak',
    weight: 0.5,
    pattern:
      /\bwhat\s+(?:is|are|was|were)\s+your\s+(?:system\s+prompt|initial\s+prompt|(?:original\s+|hidden\s+)?instructions|hidden\s+rules)\b|\brepeat\s+(?:all\s+)?(?:the\s+)?(?:text|words|everything|message|lines)\s+(?:above|before)\b/g,
  },
  { id: 'system_prompt_mention', category: 'prompt_leak', weight: 0.15, pattern: /\bsystem\s+prompt\b/g },
  // Chat-template and transcript role markers.
  {
    id: 'role_marker',
    category: 'role_marker',
    weight: 0.6,
    needs: '<[',
    pattern:
      /<\/?(?:tool_result|tool_output|tool_response|function_results?|function_output|untrusted[\w-]{0,20}|system|assistant|instructions?|im_start|im_end)\b[^<>\n]{0,40}>|<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>|\[\/?(?:inst|sys)\]|<<\/?sys>>/g,
  },
  {
    id: 'role_header',
    category: 'role_marker',
    weight: 0.55,
    needs: '#*[',
    pattern:
      /(?:^|\n|[.!?:>][ \t]{1,3})[ \t]{0,4}(?:#{1,4}|\*\*|\[)[ \t]{0,2}(?:system|assistant|instructions?|new\s+instructions?|admin(?:istrator)?\s+(?:message|note|override)|system\s+(?:message|note|override|update))[ \t]{0,2}(?:\*\*|\])?[ \t]{0,2}:?/g,
  },
  {
    id: 'bracket_marker',
    category: 'role_marker',
    weight: 0.45,
    needs: '[',
    pattern:
      /\[(?:system|admin|administrator|developer|operator)(?:\s+(?:message|note|override|update|instruction|prompt))?\]\s{0,2}:?/g,
  },
  {
    id: 'transcript_turn',
    category: 'role_marker',
    weight: 0.3,
    needs: ':',
    pattern: /(?:^|\n)[ \t]{0,4}(?:system|assistant|human)[ \t]{0,2}:[ \t]/g,
  },
  // Text addressed to the model.
  {
    id: 'addressed_to_ai',
    category: 'addressing_ai',
    weight: 0.45,
    pattern: new RegExp(
      `\\b(?:note|message|instructions?|attention|reminder|notice|directive)\\s+(?:to|for)\\s+(?:the\\s+|any\\s+|all\\s+)?(?:[a-z-]{2,20}\\s+){0,2}${AI}s?\\b|\\bif\\s+you\\s+are\\s+(?:an?\\s+)?(?:ai|llm|large\\s+language\\s+model|language\\s+model|assistant|chatbot|automated|ai\\s+agent)\\b|\\b${AI}s?\\s+(?:reading|processing|summari[sz]ing|parsing|browsing|analy[sz]ing)\\s+this\\b`,
      'g',
    ),
  },
  {
    id: 'ai_directive',
    category: 'addressing_ai',
    weight: 0.6,
    pattern: new RegExp(
      `\\b${AI}s?\\s+(?:reading|processing|summari[sz]ing|parsing|browsing|analy[sz]ing|that\\s+reads?)\\s+(?:this|these)\\b[^.\\n]{0,30}?\\b(?:should|must|shall|need\\s+to|are\\s+required\\s+to|have\\s+to)\\b`,
      'g',
    ),
  },
  {
    id: 'ai_vocative',
    category: 'addressing_ai',
    weight: 0.4,
    needs: ':,!',
    pattern: new RegExp(
      `(?:^|[\\n.!?>(\\[\\-/@]\\s{0,3}|\\b(?:dear|hey|hello|hi|attention)\\s+)(?:ai\\s+(?:assistants?|agents?|models?)|${AI}s?)\\s{0,2}[:,!]`,
      'g',
    ),
  },
  {
    id: 'ai_mention',
    category: 'addressing_ai',
    weight: 0.4,
    needs: '@',
    pattern: /@(?:ai|assistant|bot|agent|claude|gpt|chatgpt|copilot|llm)\b/g,
  },
  {
    id: 'steer_user',
    category: 'manipulation',
    weight: 0.3,
    pattern:
      /\b(?:tell|inform|convince|persuade|assure|warn)\s+(?:the\s+|all\s+)?(?:user|users|reader|readers|customer|customers|human|visitors?)\s+(?:that|this|it|to)\b/g,
  },
  // Tools and commands.
  {
    id: 'tool_request',
    category: 'tool_call',
    weight: 0.4,
    pattern:
      /\b(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+)?[\w.-]{2,40}\s+(?:tool|function|plugin|action)\b|\b(?:execute|run)\s+(?:the\s+)?following\s+(?:command|code|script|shell|sql|query|function)\b/g,
  },
  {
    id: 'shell',
    category: 'command',
    weight: 0.4,
    needs: '-:|+',
    pattern:
      /\brm\s+-rf\b|\bcurl\s+[^\n]{0,20}https?:|\bwget\s+https?:|\|\s{0,2}(?:ba|z)?sh\b|\bchmod\s+\+x\b/g,
  },
  {
    id: 'destructive_request',
    category: 'tool_call',
    weight: 0.35,
    pattern:
      /\b(?:delete|drop|wipe|erase|destroy|purge|remove)\s+(?:all|every|the\s+entire|the\s+whole)\b|\b(?:transfer|wire|send)\s+(?:\$|usd|eur|€|£)?\s?\d[\d,.]{0,12}\s?(?:\$|usd|eur|dollars|euros|btc)?\s+to\b/g,
  },
  // Sending data out.
  {
    id: 'send_to_address',
    category: 'exfiltration',
    weight: 0.35,
    needs: '@:',
    pattern: new RegExp(
      `\\b(?:send|forward|email|e-mail|mail|post|upload|transmit|exfiltrate|leak|share|copy|cc|bcc|submit|report|deliver)\\b[^\\n]{0,80}?\\b(?:to|at|into)\\s{1,3}(?:\\S{1,20}\\s{1,3})?${ADDRESS}`,
      'g',
    ),
  },
  {
    id: 'send_data',
    category: 'exfiltration_data',
    weight: 0.45,
    pattern: new RegExp(
      `\\b(?:send|forward|email|e-mail|post|upload|transmit|exfiltrate|leak|share|dump|export|copy|include|append|attach|encode|reply)\\b[^.\\n]{0,40}?\\b${DATA}\\b`,
      'g',
    ),
  },
  {
    id: 'markdown_exfiltration',
    category: 'exfiltration',
    weight: 0.5,
    needs: '!',
    // An image whose URL carries a placeholder for data: ![](https://x.example/p.png?q={conversation}).
    pattern: /!\[[^\]\n]{0,100}\]\(https?:\/\/[^)\s?]{1,200}\?(?:[^)\s{$<%]|%(?!7b)){0,300}(?:\{|%7b|\$|<)/g,
  },
  // Keeping it from the user.
  {
    id: 'secrecy',
    category: 'secrecy',
    weight: 0.4,
    pattern:
      /\b(?:do\s+not|don't|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|notify(?:ing)?|alert(?:ing)?|reveal(?:ing)?|ask(?:ing)?|show(?:ing)?|confirm(?:ing)?\s+with)\b[^.\n]{0,20}?\b(?:the\s+)?(?:user|human|operator|anyone|admin|owner|customer)\b|\b(?:secretly|silently|covertly|quietly)\s+(?:send|forward|call|run|execute|delete|transfer|add|change|email|copy|include|grant)\b/g,
  },
  {
    id: 'false_authority',
    category: 'secrecy',
    weight: 0.35,
    pattern:
      /\bthe\s+user\s+(?:has\s+)?(?:already\s+)?(?:authori[sz]ed|approved|consented\s+to|pre-approved)\b|\bthis\s+(?:action|request|transfer)\s+(?:is|has\s+been)\s+(?:pre-?)?(?:approved|authori[sz]ed)\b/g,
  },
  {
    id: 'decode_and_follow',
    category: 'encoded',
    weight: 0.5,
    pattern:
      /\b(?:decode|decrypt|deobfuscate|base64-decode)\b[^.\n]{0,40}?\b(?:and|then)\s+(?:follow|execute|run|obey|do|perform|apply)\b/g,
  },
  {
    id: 'hidden_style',
    category: 'hidden_style',
    weight: 0.15,
    needs: ':',
    pattern:
      /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|pt|em)?\b|opacity\s*:\s*0(?:\.0+)?\b|color\s*:\s*(?:white|#fff(?:fff)?|transparent)\b/g,
  },
];

/**
 * Every rule as one alternation: it matches a text exactly when at least one rule does, so a text it
 * does not match (most text) is settled with one search instead of one per rule. The rules share their
 * flags (`g` only) and have no back-references, so joining them changes no rule's meaning.
 */
const ANY_RULE = new RegExp(RULES.map((rule) => `(?:${rule.pattern.source})`).join('|'));
for (const rule of RULES) {
  if (rule.pattern.flags !== 'g')
    throw new Error(`injection rule ${rule.id}: flags must be "g" to join ANY_RULE`);
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

function combine(findings: readonly InjectionFinding[], categoryOf: Map<InjectionFinding, string>): number {
  const strongest = new Map<string, number>();
  for (const finding of findings) {
    const category = categoryOf.get(finding) ?? finding.note;
    strongest.set(category, Math.max(strongest.get(category) ?? 0, finding.score));
  }
  let keep = 1;
  for (const weight of strongest.values()) keep *= 1 - weight;
  return Math.round((1 - keep) * 1000) / 1000;
}

function scan(
  text: string,
  depth: number,
): { findings: InjectionFinding[]; categories: Map<InjectionFinding, string> } {
  const findings: InjectionFinding[] = [];
  const categories = new Map<InjectionFinding, string>();
  const add = (finding: InjectionFinding, category: string) => {
    findings.push(finding);
    categories.set(finding, category);
  };
  const normalized = normalizeForInjection(text);
  const { map } = normalized;
  // Whether the text talks about injection matters only for a match inside quotes: asked then, once.
  let discussion: boolean | undefined;
  const isDiscussion = () => {
    discussion ??= DISCUSSION.test(normalized.text);
    return discussion;
  };
  let obfuscated = false;
  const anyRule = ANY_RULE.test(normalized.text);
  for (const rule of anyRule ? RULES : []) {
    if (rule.needs !== undefined && !containsAny(normalized.text, rule.needs)) continue;
    for (const match of allMatches(rule.pattern, normalized.text)) {
      const from = match.index;
      const to = from + match[0].length;
      let weight = rule.weight;
      if (quoted(normalized.text, from, isDiscussion)) weight = Math.round((weight / 3) * 1000) / 1000;
      const start = map ? (map[from] as number) : from;
      const end = map ? (map[to] ?? text.length) : to;
      add({ kind: 'injection', note: rule.id, score: weight, start, end }, rule.category);
      if (!obfuscated && normalized.lookalike) {
        for (let position = from; position < to; position++) {
          if (normalized.lookalike[position]) {
            obfuscated = true;
            add({ kind: 'injection', note: 'homoglyphs', score: 0.4, start, end }, 'obfuscation');
            break;
          }
        }
      }
    }
  }
  if (normalized.invisibleInWords > 0) {
    add(
      {
        kind: 'injection',
        note: 'hidden_text',
        score: normalized.invisibleInWords >= 3 ? 0.45 : 0.3,
      } as InjectionFinding,
      'hidden_text',
    );
  }
  if (normalized.bidi > 0)
    add({ kind: 'injection', note: 'bidi_controls', score: 0.2 } as InjectionFinding, 'bidi');
  if (normalized.tagText.trim() !== '') {
    add({ kind: 'injection', note: 'unicode_tag_text', score: 0.7 } as InjectionFinding, 'tag_text');
    if (depth === 0) {
      const hidden = scan(normalized.tagText, depth + 1);
      for (const finding of hidden.findings) {
        const { start: _start, end: _end, ...rest } = finding;
        add({ ...rest, note: `tag_text:${finding.note}` }, hidden.categories.get(finding) ?? finding.note);
      }
    }
  }
  // A base64 blob is 24 characters at least.
  if (depth === 0 && text.length >= 24) {
    for (const match of allMatches(BASE64, text)) {
      const decoded = decodedBase64(match[0]);
      if (!decoded) continue;
      const inner = scan(decoded, depth + 1);
      if (inner.findings.length === 0) continue;
      const start = match.index;
      const end = start + match[0].length;
      add({ kind: 'injection', note: 'base64_instructions', score: 0.6, start, end }, 'encoded');
      for (const finding of inner.findings) {
        add(
          { ...finding, note: `base64:${finding.note}`, start, end },
          inner.categories.get(finding) ?? finding.note,
        );
      }
    }
  }
  return { findings, categories };
}

/**
 * Scores `text` for prompt injection: `score` 0–1 (1 − Π(1 − weight) over the categories found) and
 * findings naming the rule and the offsets in `text`, never the text. Never throws.
 */
export function detectInjection(text: string): InjectionReport {
  if (typeof text !== 'string' || text.length === 0) return { score: 0, findings: [] };
  const { findings, categories } = scan(text, 0);
  return { score: combine(findings, categories), findings };
}

// ---------------------------------------------------------------------------------------------------

/** A second opinion, typically a small model: a score 0–1 that the text is an injection. */
export type InjectionJudge = (text: string, signal: AbortSignal) => Promise<{ score: number }>;

export interface InjectionGuardOptions {
  /** Trip (or redact) from this score (default 0.5). */
  threshold?: number;
  /**
   * Asked when the heuristics score below the threshold (at or above it the verdict is already made);
   * the score is the higher of the two. A judge that throws, times out or answers no score in 0–1 trips:
   * it fails closed.
   */
  judge?: InjectionJudge;
  /** Ask the judge only from this heuristic score (default 0: always). */
  judgeFrom?: number;
  /**
   * `trip` (default): stop the run. `redact`: rewrite the text, removing invisible characters and
   * replacing the matched instructions with `[removed: possible prompt injection]` (the whole string
   * when only the judge found it). `flag`: pass, with the findings recorded.
   */
  action?: 'trip' | 'redact' | 'flag';
  /** Default `injection`. */
  name?: string;
  /** Default: every stage it is listed under (typically `toolOutput`, `input`). */
  stages?: readonly GuardStage[];
  timeoutMs?: number;
}

export const INJECTION_REMOVED = '[removed: possible prompt injection]';

const INVISIBLE_CHARS =
  /[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e\u202a-\u202e\u2066-\u2069]|[\u{e0000}-\u{e007f}]/gu;

function redactText(text: string, findings: readonly InjectionFinding[]): string {
  const spans = findings
    .filter(
      (finding) => finding.start !== undefined && finding.end !== undefined && finding.end > finding.start,
    )
    .map((finding) => [finding.start as number, finding.end as number] as const)
    .sort((a, b) => a[0] - b[0]);
  if (spans.length === 0) return INJECTION_REMOVED;
  let out = '';
  let cursor = 0;
  for (const [start, end] of spans) {
    if (end <= cursor) continue;
    if (start >= cursor)
      out += `${text.slice(cursor, start).replace(INVISIBLE_CHARS, '')}${INJECTION_REMOVED}`;
    cursor = end;
  }
  return out + text.slice(cursor).replace(INVISIBLE_CHARS, '');
}

/** What the heuristics found in a value, for the verdict (and the judge, when there is one). */
interface Scanned {
  value: unknown;
  findings: GuardFinding[];
  heuristic: number;
  perString: Map<string, InjectionFinding[]>;
}

/**
 * A guard for untrusted text: scores every string in the value (a string, or the strings inside a
 * tool result's objects and arrays) with `detectInjection`, optionally asks a judge, and trips, redacts
 * or flags from `threshold`. Findings name rules and offsets (and the path inside a structure).
 */
export function injectionGuard(options: InjectionGuardOptions = {}): Guard {
  const threshold = options.threshold ?? 0.5;
  if (!(threshold > 0 && threshold <= 1)) {
    throw new BatonError('CONFIG_INVALID', `injectionGuard: "threshold" must be in (0, 1], got ${threshold}`);
  }
  if (options.judge !== undefined && typeof options.judge !== 'function') {
    throw new BatonError(
      'CONFIG_INVALID',
      'injectionGuard: "judge" must be a function (text, signal) => { score }',
    );
  }
  const action = options.action ?? 'trip';
  const name = options.name ?? 'injection';
  const judgeFrom = options.judgeFrom ?? 0;
  const askJudge = async (
    judge: InjectionJudge,
    text: string,
    scan: Scanned,
    context: GuardContext,
  ): Promise<GuardVerdict> => {
    const { findings } = scan;
    let verdict: unknown;
    try {
      verdict = await judge(text, context?.signal ?? new AbortController().signal);
    } catch (error) {
      return {
        action: 'trip',
        reason: `${name}: the judge failed (${messageOf(error)}), failing closed`,
        findings,
      };
    }
    const judgeScore = (verdict as { score?: unknown } | undefined)?.score;
    if (typeof judgeScore !== 'number' || !(judgeScore >= 0 && judgeScore <= 1)) {
      return {
        action: 'trip',
        reason: `${name}: the judge returned no score in 0–1, failing closed`,
        findings,
      };
    }
    findings.push({ kind: 'injection', note: 'judge', score: judgeScore });
    return judgeScore > scan.heuristic ? decide(scan, judgeScore, true) : decide(scan, scan.heuristic, false);
  };
  const decide = (scan: Scanned, score: number, judged: boolean): GuardVerdict => {
    const { value, findings, perString } = scan;
    if (score < threshold) return findings.length > 0 ? { action: 'pass', findings } : PASS;
    const rules = [
      ...new Set(findings.filter((f) => f.note !== 'judge').map((f) => f.note?.split(' at ')[0])),
    ]
      .filter(Boolean)
      .slice(0, 6)
      .join(', ');
    const why = `${judged ? 'the judge' : 'heuristics'} scored ${score.toFixed(2)} ≥ ${threshold}${rules ? ` (${rules})` : ''}`;
    if (action === 'flag') return { action: 'pass', findings };
    if (action === 'trip')
      return { action: 'trip', reason: `${name}: possible prompt injection: ${why}`, findings };
    let rewritten: unknown;
    try {
      rewritten = mapStrings(value, (text, _path, isKey) => {
        const found = perString.get(text);
        if (found) return redactText(text, found);
        if (judged && !isKey) return INJECTION_REMOVED;
        return undefined;
      }).value;
    } catch (error) {
      return { action: 'trip', reason: `${name}: could not redact the value (${messageOf(error)})` };
    }
    return {
      action: 'rewrite',
      value: rewritten,
      reason: `${name}: removed possible prompt injection: ${why}`,
      findings,
    };
  };
  return {
    name,
    ...(options.stages ? { stages: options.stages } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    // Synchronous unless a judge is asked: the heuristics need no await.
    check(value: unknown, context: GuardContext): GuardVerdict | Promise<GuardVerdict> {
      const findings: GuardFinding[] = [];
      const single = typeof value === 'string';
      let heuristic = 0;
      const perString = new Map<string, InjectionFinding[]>();
      try {
        mapStrings(value, (text: string, path: ValuePath) => {
          const report = detectInjection(text);
          if (report.findings.length === 0) return undefined;
          heuristic = Math.max(heuristic, report.score);
          if (report.score >= threshold) perString.set(text, report.findings);
          for (const finding of report.findings) {
            findings.push(single ? finding : { ...finding, note: `${finding.note} at ${formatPath(path)}` });
          }
          return undefined;
        });
      } catch (error) {
        const why =
          error instanceof TooDeepError ? `nested deeper than ${MAX_DEPTH} levels` : messageOf(error);
        return { action: 'trip', reason: `${name}: could not check the value (${why})` };
      }
      const scan: Scanned = { value, findings, heuristic, perString };
      if (options.judge && heuristic < threshold && heuristic >= judgeFrom) {
        const text = textOf(value);
        if (text.trim() !== '') return askJudge(options.judge, text, scan, context);
      }
      return decide(scan, heuristic, false);
    },
  };
}
