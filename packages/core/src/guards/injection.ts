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
import { BatonError } from '../errors.js';
import { type InjectionFinding, injectionReport } from './injection-detect.js';
import { textOf } from './length.js';
import {
  type Guard,
  type GuardContext,
  type GuardFinding,
  type GuardStage,
  type GuardVerdict,
  PASS,
} from './types.js';
import { formatPath, MAX_DEPTH, mapStrings, messageOf, TooDeepError } from './walk.js';

export {
  detectInjection,
  type InjectionFinding,
  type InjectionReport,
} from './injection-detect.js';

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
  /** The verdict on what the heuristics found (nothing: undefined), asking the judge when there is one. */
  const finish = (
    value: unknown,
    scan: Scanned | undefined,
    context: GuardContext,
  ): GuardVerdict | Promise<GuardVerdict> => {
    const heuristic = scan?.heuristic ?? 0;
    if (options.judge && heuristic < threshold && heuristic >= judgeFrom) {
      const text = textOf(value);
      if (text.trim() !== '') {
        return askJudge(
          options.judge,
          text,
          scan ?? { value, findings: [], heuristic, perString: new Map() },
          context,
        );
      }
    }
    return scan ? decide(scan, heuristic, false) : PASS;
  };
  return {
    name,
    ...(options.stages ? { stages: options.stages } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    // Synchronous unless a judge is asked: the heuristics need no await. Nothing is allocated for
    // findings until a string has some: most values have none, and every stage's strings are scanned.
    check(value: unknown, context: GuardContext): GuardVerdict | Promise<GuardVerdict> {
      // A string (an input, an answer) needs no walk, and one without findings settles it at once.
      if (typeof value === 'string') {
        const report = injectionReport(value);
        if (report === undefined) return options.judge ? finish(value, undefined, context) : PASS;
        const perString = new Map<string, InjectionFinding[]>();
        if (report.score >= threshold) perString.set(value, report.findings);
        return finish(
          value,
          { value, findings: [...report.findings], heuristic: report.score, perString },
          context,
        );
      }
      let scan: Scanned | undefined;
      try {
        scan = scanStrings(value, threshold);
      } catch (error) {
        const why =
          error instanceof TooDeepError ? `nested deeper than ${MAX_DEPTH} levels` : messageOf(error);
        return { action: 'trip', reason: `${name}: could not check the value (${why})` };
      }
      return finish(value, scan, context);
    },
  };
}

/**
 * What the heuristics find in the strings of a structure (undefined: nothing). Apart from the guard's
 * `check`, so that a check of a string allocates no closure context for this walk.
 */
function scanStrings(value: unknown, threshold: number): Scanned | undefined {
  let scan: Scanned | undefined;
  mapStrings(value, (text, path) => {
    const report = injectionReport(text);
    if (report === undefined) return undefined;
    scan ??= { value, findings: [], heuristic: 0, perString: new Map() };
    scan.heuristic = Math.max(scan.heuristic, report.score);
    if (report.score >= threshold) scan.perString.set(text, report.findings);
    for (const finding of report.findings) {
      scan.findings.push({ ...finding, note: `${finding.note} at ${formatPath(path)}` });
    }
    return undefined;
  });
  return scan;
}
