// Planning: typed plans validated before they run (plan-and-execute), reflection, grounding (issue 14).
export { DEFAULT_PLANNING, outputSchemaOf, type PlanningOptions } from './agent-plan.js';
export type { PlanningConfig } from './config.js';
export { type GroundingCheck, groundAnswer } from './grounding.js';
export { extractPlanJson } from './parse.js';
export {
  dependenciesOf,
  isRef,
  PLAN_MAX_STEPS,
  PLAN_STEP_ID,
  type Plan,
  type PlanRef,
  type PlanStep,
  parseRef,
  planJsonSchema,
  planSchema,
  planStepSchema,
  type Resolved,
  refsOf,
  resolveRefs,
} from './plan.js';
export {
  type CatalogEntry,
  correctionPrompt,
  type DoneStep,
  PLAN_DONE_PREFIX,
  planningPrompt,
  replanPrompt,
} from './prompts.js';
export { parseReview, type ReflectOptions, type Review, reviewSchema } from './reflect.js';
export {
  emitPlanning,
  PlanningAttr,
  type PlanningEventFields,
  type PlanStepFailure,
  validationSpan,
} from './telemetry.js';
export {
  describeViolations,
  missingPath,
  type PlanBounds,
  type PlanCapability,
  type PlanVerdict,
  type PlanViolation,
  type PlanViolationCode,
  validatePlan,
} from './validate.js';
