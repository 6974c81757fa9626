export { cachedTeamBundle, type MemberBundle, memberBundleOf, teamBundle, teamBundleOf } from './bundle.js';
export {
  type Critique,
  critiqueSchema,
  type DebateConfig,
  type DebateCritic,
  type DebateVerdict,
  debate,
  debateCritique,
  debateGenerate,
  debateJudge,
  debateVerdictSchema,
  similarEnough,
} from './debate.js';
export { fitToTokens } from './fit.js';
export { type LedgerEntry, ProgressLedger } from './ledger.js';
export {
  type PipelineConfig,
  type PipelineContext,
  type PipelineLoop,
  type PipelineStage,
  pipeline,
} from './pipeline.js';
export { type PlanMember, plannerAgent } from './planning/members.js';
export { type PlanExecuteConfig, type PlanOutputContext, planExecute } from './planning/plan-execute.js';
export {
  type TeamAsAgentOptions,
  type TeamToolOptions,
  teamAsAgent,
  teamTool,
} from './planning/team-member.js';
export { statusOf as teamStatusFor } from './status.js';
export { type SupervisedWorker, type SupervisorConfig, supervisor } from './supervisor.js';
export { resumeTeam } from './team-journal.js';
export { type Invocation, type Member, TeamRun } from './team-run.js';
export {
  and,
  costBudget,
  external,
  maxMessages,
  maxRounds,
  or,
  type StopSignal,
  type TeamProgress,
  type TerminationCondition,
  textMention,
  timeout,
  tokenBudget,
  verdict,
} from './termination.js';
export type {
  HandoffRecord,
  MemberReport,
  PendingCall,
  StopKind,
  StopReason,
  Team,
  TeamCallPreview,
  TeamConfig,
  TeamEvent,
  TeamEventType,
  TeamPlanReport,
  TeamResult,
  TeamRunOptions,
  TeamStatus,
} from './types.js';
