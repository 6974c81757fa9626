import { reviewRequestSchema, type Verdict, verdictSchema } from '../../contracts.js';
import { critiqueText } from '../../critique.js';
import { reviewDraft } from '../../rubric.js';
import { findInput, taskText } from '../conversation.js';
import { finalAnswer, type OfflineTurn, type TurnContext } from '../turn.js';

/** Where the reviewer agent's instructions carry the rubric's verdict, computed from the run's input. */
export const RUBRIC_CHECKS_OPEN = '<rubric-checks>';
export const RUBRIC_CHECKS_CLOSE = '</rubric-checks>';

/**
 * The offline reviewer applies the rubric and returns its verdict unchanged: approve when no issue is
 * major or critical, else revise. When the reviewer agent has already run the rubric (with the options
 * it was given) its instructions carry the result, which the offline model then uses as is.
 */
export function reviewerTurn(context: TurnContext): OfflineTurn {
  return finalAnswer(context, reviewerVerdict(context));
}

function reviewerVerdict(context: TurnContext): Verdict {
  const request = findInput(context.messages, reviewRequestSchema);
  if (!request) return critiqueText(taskText(context.messages));
  return precomputed(context.system) ?? reviewDraft(request);
}

function precomputed(system: string): Verdict | undefined {
  const start = system.lastIndexOf(RUBRIC_CHECKS_OPEN);
  const end = system.lastIndexOf(RUBRIC_CHECKS_CLOSE);
  if (start < 0 || end < start) return undefined;
  try {
    const parsed = verdictSchema.safeParse(JSON.parse(system.slice(start + RUBRIC_CHECKS_OPEN.length, end)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
