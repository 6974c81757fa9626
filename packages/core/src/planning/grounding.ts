import { BatonError } from '../errors.js';
import type { FinalAnswerCheck } from '../run/final-answer.js';
import type { LoopState } from '../run/state.js';
import type { ToolRecord } from '../run/types.js';
import { configError } from '../tools/define.js';

/**
 * Checks that an answer's citations point at something this run's tools actually returned: a cited
 * document id that no search or read produced is a made-up source, and the answer is sent back.
 */
export interface GroundingCheck<O = unknown> {
  /** The citations of an answer: the ids (or URLs) it says its claims come from. */
  cited(output: O): readonly string[];
  /**
   * What a tool result makes citable. Default: every string under an `id`, `url`, `uri`, `documentId`
   * or `docId` key of an ok result, at any depth.
   */
  sources?(record: ToolRecord): readonly string[];
}

const SOURCE_KEYS = new Set(['id', 'url', 'uri', 'documentId', 'docId']);
const MAX_DEPTH = 8;

export function checkGroundingConfig(value: unknown, where: string): GroundingCheck | undefined {
  if (value === undefined) return undefined;
  const check = value as Partial<GroundingCheck> | null;
  if (typeof check !== 'object' || check === null || typeof check.cited !== 'function') {
    throw configError(where, 'grounding', 'an object with a cited(output) function');
  }
  if (check.sources !== undefined && typeof check.sources !== 'function') {
    throw configError(where, 'grounding.sources', 'a function of a tool record');
  }
  return check as GroundingCheck;
}

/** Every id a run's ok tool results make citable. */
export function citableIds(state: LoopState, check: GroundingCheck): Set<string> {
  const known = new Set<string>();
  for (const record of state.toolRecords) {
    if (!record.ok) continue;
    const ids = check.sources ? check.sources(record) : defaultSources(record.data);
    for (const id of ids) known.add(id);
  }
  return known;
}

function defaultSources(data: unknown, depth = 0, found: string[] = []): string[] {
  if (depth > MAX_DEPTH || typeof data !== 'object' || data === null) return found;
  if (Array.isArray(data)) {
    for (const item of data) defaultSources(item, depth + 1, found);
    return found;
  }
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string' && SOURCE_KEYS.has(key)) found.push(value);
    else defaultSources(value, depth + 1, found);
  }
  return found;
}

/** The grounding verdict on an answer: ok, or a correction naming the citations nothing backs. */
export function groundAnswer(
  output: unknown,
  state: LoopState,
  check: GroundingCheck,
): { ok: true; cited: number } | { ok: false; cited: number; unknown: string[]; check: FinalAnswerCheck } {
  let cited: readonly string[];
  try {
    cited = check.cited(output);
  } catch (error) {
    // A check that cannot read the answer cannot vouch for it: that is a failed check, not a pass.
    const failure = new BatonError(
      'OUTPUT_UNGROUNDED',
      `The grounding check could not read the answer: ${String(error)}`,
    );
    return {
      ok: false,
      cited: 0,
      unknown: [],
      check: { ok: false, error: failure, correction: failure.message },
    };
  }
  const known = citableIds(state, check);
  const unknown = [...new Set(cited.filter((id) => !known.has(id)))];
  if (unknown.length === 0) return { ok: true, cited: cited.length };
  const list = unknown.map((id) => `"${id}"`).join(', ');
  return {
    ok: false,
    cited: cited.length,
    unknown,
    check: {
      ok: false,
      error: new BatonError(
        'OUTPUT_UNGROUNDED',
        `The answer cites ${unknown.length} source(s) no tool result of this run contains: ${list}`,
        { details: { unknown, cited: cited.length } },
      ),
      correction: `Your answer cites sources that none of your tool results contain: ${list}. Cite only ids that appear in your tool results (read a document before citing it), or drop the claims that rest on them, then give your final answer again.`,
    },
  };
}
