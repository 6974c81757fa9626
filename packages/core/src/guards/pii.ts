/**
 * PII detection and redaction: emails, phone numbers, payment cards (Luhn and the card networks' number
 * ranges), US Social Security numbers, IBANs (checksum), IPv4/IPv6 addresses and secrets (see
 * secrets.ts). Detectors look for structure, then validate it, so a digit run is not a phone number and
 * a 16-digit number that fails Luhn is not a card.
 *
 * Linear time: matches start at the beginning of a run (look-behind), quantifiers are bounded, emails
 * are found from their `@`. A finding holds a kind, offsets and a note, never the text it found.
 */
import {
  detectCards,
  detectEmails,
  detectIbans,
  detectIps,
  detectPhones,
  detectSsns,
} from './pii-detectors.js';
import { collectSecrets, isTokenChar } from './secrets.js';
import { type Guard, type GuardFinding, type GuardStage, type GuardVerdict, PASS } from './types.js';
import { formatPath, MAX_DEPTH, mapStrings, messageOf, TooDeepError, type ValuePath } from './walk.js';

export { cardBrand, luhnValid, ssnValid } from './pii-detectors.js';

export type PiiKind =
  | 'email'
  | 'phone'
  | 'credit_card'
  | 'us_ssn'
  | 'iban'
  | 'ip_address'
  | 'api_key'
  | 'private_key'
  | 'jwt'
  | 'secret';

export const PII_KINDS: readonly PiiKind[] = Object.freeze([
  'email',
  'phone',
  'credit_card',
  'us_ssn',
  'iban',
  'ip_address',
  'api_key',
  'private_key',
  'jwt',
  'secret',
]);

/** The default replacement of each kind. */
export const PII_LABELS: Readonly<Record<PiiKind, string>> = Object.freeze({
  email: '[EMAIL]',
  phone: '[PHONE]',
  credit_card: '[CREDIT_CARD]',
  us_ssn: '[US_SSN]',
  iban: '[IBAN]',
  ip_address: '[IP_ADDRESS]',
  api_key: '[API_KEY]',
  private_key: '[PRIVATE_KEY]',
  jwt: '[JWT]',
  secret: '[SECRET]',
});

export interface PiiFinding extends GuardFinding {
  kind: PiiKind;
  start: number;
  end: number;
}

export interface PiiOptions {
  /** The kinds to look for (default: all of `PII_KINDS`). */
  kinds?: readonly PiiKind[];
}

export interface RedactOptions extends PiiOptions {
  /** The text that replaces a finding; default `PII_LABELS[kind]` (`[EMAIL]`, `[CREDIT_CARD]`, ...). */
  replacement?: (finding: PiiFinding) => string;
}

/** When two findings overlap, the first kind here wins (then the longer one). */
const PRIORITY: readonly PiiKind[] = [
  'private_key',
  'jwt',
  'api_key',
  'email',
  'iban',
  'credit_card',
  'us_ssn',
  'phone',
  'ip_address',
  'secret',
];

// ---------------------------------------------------------------------------------------------------

/**
 * What every match of a detector needs at least (its digits, a colon, an `@`): a detector whose need the
 * text does not meet cannot find anything and is skipped. Each bound is read off the detector's patterns
 * and checks (an email has its `@`, a card 13 digits or more, a phone number 8, an SSN 9, an IBAN its 2
 * check digits, an IPv4 address 4, an IPv6 address a colon and a digit; secrets: see `collectSecrets`),
 * so skipping changes no result — it only spares short texts (an input, an answer, a tool argument) a
 * dozen regex searches. Read in one pass, into one object: detection is synchronous, never re-entered.
 */
interface TextShape {
  digits: number;
  colon: boolean;
  at: boolean;
  equals: boolean;
  /** The longest run of key characters (see secrets.ts). */
  run: number;
}

const SHAPE: TextShape = { digits: 0, colon: false, at: false, equals: false, run: 0 };

function shapeOf(text: string): TextShape {
  let digits = 0;
  let colon = false;
  let at = false;
  let equals = false;
  let run = 0;
  let longest = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) digits++;
    else if (code === 58) colon = true;
    else if (code === 64) at = true;
    else if (code === 61) equals = true;
    if (isTokenChar(code)) {
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  SHAPE.digits = digits;
  SHAPE.colon = colon;
  SHAPE.at = at;
  SHAPE.equals = equals;
  SHAPE.run = longest;
  return SHAPE;
}

interface Detector {
  kinds: readonly PiiKind[];
  needs(shape: TextShape): boolean;
  detect(text: string, out: PiiFinding[], shape: TextShape): void;
}

const DETECTORS: readonly Detector[] = [
  { kinds: ['email'], needs: (shape) => shape.at, detect: detectEmails },
  { kinds: ['phone'], needs: (shape) => shape.digits >= 8, detect: detectPhones },
  { kinds: ['credit_card'], needs: (shape) => shape.digits >= 13, detect: detectCards },
  { kinds: ['us_ssn'], needs: (shape) => shape.digits >= 9, detect: detectSsns },
  { kinds: ['iban'], needs: (shape) => shape.digits >= 2, detect: detectIbans },
  {
    kinds: ['ip_address'],
    needs: (shape) => shape.digits >= 4 || (shape.colon && shape.digits >= 1),
    detect: detectIps,
  },
  {
    kinds: ['api_key', 'private_key', 'jwt', 'secret'],
    needs: () => true,
    detect: (text, out, shape) => collectSecrets(text, out, shape.run, shape.colon || shape.equals),
  },
];

const ALL_KINDS: ReadonlySet<PiiKind> = new Set(PII_KINDS);
const KIND_SETS = new WeakMap<readonly PiiKind[], ReadonlySet<PiiKind>>();
const DETECTORS_FOR = new WeakMap<ReadonlySet<PiiKind>, readonly Detector[]>();

/** The kinds asked for as a set, made once per list (a guard passes the same list on every check). */
function wantedKinds(kinds: readonly PiiKind[] | undefined): ReadonlySet<PiiKind> {
  if (kinds === undefined) return ALL_KINDS;
  let set = KIND_SETS.get(kinds);
  if (!set) {
    set = new Set(kinds);
    KIND_SETS.set(kinds, set);
  }
  return set;
}

/** The detectors of the kinds asked for, chosen once per set of kinds. */
function detectorsFor(wanted: ReadonlySet<PiiKind>): readonly Detector[] {
  let detectors = DETECTORS_FOR.get(wanted);
  if (!detectors) {
    detectors = DETECTORS.filter((detector) => detector.kinds.some((kind) => wanted.has(kind)));
    DETECTORS_FOR.set(wanted, detectors);
  }
  return detectors;
}

/** What the detectors found in the text being checked, before overlaps are resolved (never re-entered). */
const FOUND: PiiFinding[] = [];

/** `detectPii`'s findings, or undefined when there are none (most text: nothing is allocated then). */
function findPii(text: string, wanted: ReadonlySet<PiiKind>): PiiFinding[] | undefined {
  const shape = shapeOf(text);
  // Left empty by every call; emptied here too in case a detector threw midway (setting a length is
  // not free: only when there is something to drop).
  if (FOUND.length > 0) FOUND.length = 0;
  for (const detector of detectorsFor(wanted)) {
    if (detector.needs(shape)) detector.detect(text, FOUND, shape);
  }
  if (FOUND.length === 0) return undefined;
  const candidates = FOUND.filter((finding) => wanted.has(finding.kind) && finding.end > finding.start);
  FOUND.length = 0;
  if (candidates.length === 0) return undefined;
  if (candidates.length === 1) return candidates;
  candidates.sort(
    (a, b) =>
      PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind) ||
      b.end - b.start - (a.end - a.start) ||
      a.start - b.start,
  );
  // Strongest first; a candidate overlapping a kept one is dropped. Marking the kept spans costs their
  // length, so this stays linear in the text however many findings there are.
  const claimed = new Uint8Array(text.length);
  const kept: PiiFinding[] = [];
  for (const candidate of candidates) {
    let free = true;
    for (let index = candidate.start; index < candidate.end; index++) {
      if (claimed[index]) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    claimed.fill(1, candidate.start, candidate.end);
    kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/**
 * The PII in `text`: findings sorted by position, without overlaps (a card number inside a longer
 * match of a stronger kind is reported once). Never throws; a non-string yields no findings.
 */
export function detectPii(text: string, options: PiiOptions = {}): PiiFinding[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  return findPii(text, wantedKinds(options.kinds)) ?? [];
}

/** `text` with `findings` (sorted, not overlapping) replaced. */
function replaced(
  text: string,
  findings: readonly PiiFinding[],
  replacement: (finding: PiiFinding) => string,
): string {
  let out = '';
  let cursor = 0;
  for (const finding of findings) {
    out += text.slice(cursor, finding.start) + replacement(finding);
    cursor = finding.end;
  }
  return out + text.slice(cursor);
}

const LABEL = (finding: PiiFinding): string => PII_LABELS[finding.kind];

/** `text` with its PII replaced (`[EMAIL]`, `[CREDIT_CARD]`, ...), and what was replaced. */
export function redactPii(
  text: string,
  options: RedactOptions = {},
): { text: string; findings: PiiFinding[] } {
  const findings = detectPii(text, options);
  if (findings.length === 0) return { text, findings };
  return { text: replaced(text, findings, options.replacement ?? LABEL), findings };
}

// ---------------------------------------------------------------------------------------------------

export interface PiiGuardOptions extends PiiOptions {
  /** `redact` (default): rewrite the value with the PII replaced. `trip`: stop the run. */
  action?: 'redact' | 'trip';
  /** Default `pii`. */
  name?: string;
  stages?: readonly GuardStage[];
  replacement?: RedactOptions['replacement'];
}

const KIND_WORDS: Record<PiiKind, [string, string]> = {
  email: ['email address', 'email addresses'],
  phone: ['phone number', 'phone numbers'],
  credit_card: ['payment card number', 'payment card numbers'],
  us_ssn: ['US SSN', 'US SSNs'],
  iban: ['IBAN', 'IBANs'],
  ip_address: ['IP address', 'IP addresses'],
  api_key: ['API key', 'API keys'],
  private_key: ['private key', 'private keys'],
  jwt: ['JWT', 'JWTs'],
  secret: ['secret', 'secrets'],
};

/** "2 email addresses, 1 payment card number": counts by kind, never the values. */
export function describeFindings(findings: readonly GuardFinding[]): string {
  const counts = new Map<string, number>();
  for (const finding of findings) counts.set(finding.kind, (counts.get(finding.kind) ?? 0) + 1);
  return [...counts]
    .map(([kind, count]) => {
      const words = KIND_WORDS[kind as PiiKind] ?? [kind, kind];
      return `${count} ${count === 1 ? words[0] : words[1]}`;
    })
    .join(', ');
}

/**
 * A guard that finds PII in a value — a string, or the strings inside objects and arrays (a tool result
 * is often JSON; object keys are checked too) — and redacts it (`action: 'redact'`, the default: the
 * value is rewritten with `[EMAIL]`, `[CREDIT_CARD]`, ...) or trips (`action: 'trip'`). Findings name
 * the kind, the offsets within the string and, inside a structure, the path; never the text.
 */
export function piiGuard(options: PiiGuardOptions = {}): Guard {
  const action = options.action ?? 'redact';
  const name = options.name ?? 'pii';
  const wanted = wantedKinds(options.kinds);
  const replacement = options.replacement ?? LABEL;
  return {
    name,
    ...(options.stages ? { stages: options.stages } : {}),
    check(value: unknown): GuardVerdict {
      // A string (an input, an answer) needs no walk; and nothing is allocated for findings until a
      // string has some: most values have none.
      if (typeof value === 'string') {
        const found = value.length === 0 ? undefined : findPii(value, wanted);
        if (found === undefined) return PASS;
        const findings = found.map((finding) => findingOf(finding, undefined));
        return verdict(findings, replaced(value, found, replacement));
      }
      let walked: { value: unknown; findings: GuardFinding[] | undefined };
      try {
        walked = redactStrings(value, wanted, replacement);
      } catch (error) {
        const why =
          error instanceof TooDeepError ? `nested deeper than ${MAX_DEPTH} levels` : messageOf(error);
        return { action: 'trip', reason: `${name}: could not check the value (${why})` };
      }
      return walked.findings === undefined ? PASS : verdict(walked.findings, walked.value);
    },
  };

  function verdict(findings: GuardFinding[], rewritten: unknown): GuardVerdict {
    const summary = describeFindings(findings);
    if (action === 'trip') return { action: 'trip', reason: `${name}: found ${summary}`, findings };
    return { action: 'rewrite', value: rewritten, reason: `${name}: redacted ${summary}`, findings };
  }
}

/**
 * `value` with the PII in its strings replaced, and the findings (undefined: none). Apart from `check`, so
 * that a check of a string allocates no closure context for this walk.
 */
function redactStrings(
  value: unknown,
  wanted: ReadonlySet<PiiKind>,
  replacement: (finding: PiiFinding) => string,
): { value: unknown; findings: GuardFinding[] | undefined } {
  let findings: GuardFinding[] | undefined;
  const rewritten = mapStrings(value, (text, path) => {
    if (text.length === 0) return undefined;
    const found = findPii(text, wanted);
    if (found === undefined) return undefined;
    findings ??= [];
    for (const finding of found) findings.push(findingOf(finding, path));
    return replaced(text, found, replacement);
  }).value;
  return { value: rewritten, findings };
}

/** A finding as the guard reports it: inside a structure, its note says where (never the text). */
function findingOf(finding: PiiFinding, path: ValuePath | undefined): GuardFinding {
  const entry: GuardFinding = { kind: finding.kind, start: finding.start, end: finding.end };
  const note = [finding.note, path === undefined ? undefined : `at ${formatPath(path)}`].filter(Boolean);
  if (note.length > 0) entry.note = note.join('; ');
  return entry;
}
