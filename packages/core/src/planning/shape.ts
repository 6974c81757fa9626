import type { Agent } from '../agent.js';

/**
 * The planning configuration a journal's config hash covers: a run planned by one configuration must not
 * be resumed by another (its recorded plan steps would replay under different rules). Models by id only.
 */
export function planningShape(agent: Agent): Record<string, unknown> {
  const { planner, planning, reflect, grounding } = agent.config;
  const options = reflect === true ? {} : reflect || undefined;
  return {
    planner: planner ?? 'react',
    ...(planning
      ? {
          maxReplans: planning.maxReplans ?? null,
          maxAttempts: planning.maxAttempts ?? null,
          maxSteps: planning.maxSteps ?? null,
          model: planning.model ? `${planning.model.provider}:${planning.model.id}` : null,
        }
      : {}),
    ...(options
      ? {
          reflect: {
            model: options.model ? `${options.model.provider}:${options.model.id}` : null,
            rubric: options.rubric ?? null,
            maxRevisions: options.maxRevisions ?? 1,
          },
        }
      : {}),
    ...(grounding ? { grounding: true } : {}),
  };
}
