import type { PlanViolation } from './validate.js';

/**
 * The JSON a planner answered with: the whole text, a fenced block, or the outermost object — models
 * asked for JSON still wrap it in prose or fences. Not JSON at all is a violation the planner is told.
 */
export function extractPlanJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; violation: PlanViolation } {
  const trimmed = text.trim();
  const candidates = [trimmed];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(trimmed);
  if (fenced?.[1]) candidates.push(fenced[1].trim());
  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  if (start >= 0 && end > start) candidates.push(trimmed.slice(start, end + 1));
  let reason = 'the answer is empty';
  for (const candidate of candidates) {
    if (candidate === '') continue;
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch (error) {
      reason = (error as Error).message;
    }
  }
  return {
    ok: false,
    violation: {
      code: 'plan_unreadable',
      message: `the plan is not JSON (${reason}): reply with only the JSON object`,
    },
  };
}
