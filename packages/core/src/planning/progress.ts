import type { RunEventOf } from '../events/types.js';

type PlanningEvent = RunEventOf<
  | 'plan.created'
  | 'plan.validated'
  | 'plan.replanned'
  | 'plan.finished'
  | 'reflection.reviewed'
  | 'grounding.checked'
  | 'tool.recovered'
>;

/** The progress line of a planning, reflection, grounding or recovery event, or undefined for none. */
export function describePlanningEvent(event: PlanningEvent, verbose: boolean): string | undefined {
  const who = `[${event.agent}]`;
  switch (event.type) {
    case 'plan.created': {
      if (!event.plan) return undefined;
      const uses = new Map<string, number>();
      for (const step of event.plan.steps) uses.set(step.use, (uses.get(step.use) ?? 0) + 1);
      const list = [...uses].map(([use, count]) => (count > 1 ? `${use} ×${count}` : use)).join(', ');
      const what = event.replan > 0 ? `re-plan ${event.replan}` : 'plan';
      return `${who} ${what}: ${event.plan.steps.length} step${event.plan.steps.length === 1 ? '' : 's'} (${list})`;
    }
    case 'plan.validated': {
      if (event.valid) return undefined;
      const first = event.violations[0];
      return `${who} plan refused (${event.violations.length} problem${event.violations.length === 1 ? '' : 's'}): ${first ? `${first.step ? `${first.step}: ` : ''}${first.message}` : ''}`;
    }
    case 'plan.replanned':
      return `${who} re-planning: ${event.failed.map((failure) => `${failure.step} (${failure.use}) ${failure.code}`).join(', ')}`;
    case 'plan.finished':
      return event.outcome === 'completed' && !verbose
        ? undefined
        : `${who} plan ${event.outcome}: ${event.steps} step(s) done, ${event.replans} re-plan(s)`;
    case 'reflection.reviewed':
      return `${who} review: ${event.verdict}${event.issues.length > 0 ? ` — ${event.issues[0]}` : ''}${event.reason ? ` (${event.reason})` : ''}`;
    case 'grounding.checked':
      return event.ok ? undefined : `${who} citations not in any tool result: ${event.unknown.join(', ')}`;
    case 'tool.recovered':
      return event.strategy === 'fallback'
        ? `${who} ${event.tool} failed; fallback ${event.fallback} ${event.ok ? 'answered' : 'failed too'}`
        : `${who} ${event.tool} retried with modified arguments (${event.attempt})${event.ok ? ': ok' : ''}`;
    default:
      return undefined;
  }
}
