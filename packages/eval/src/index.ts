// @baton/eval — Evals for Baton agents and teams: golden sets, record/replay, paired A/B with statistics.
export {
  type AbArm,
  type AbCase,
  type AbMetric,
  type AbOptions,
  type AbReport,
  formatP,
  percent,
  runAb,
} from './ab.js';
export {
  addCaseToSuite,
  type CaseFromRecordingOptions,
  caseFromRecording,
  recordingFromJournal,
} from './add-case.js';
export { type CheckContext, type CheckResult, checkName, evaluateCheck, select } from './checks.js';
export { judgeAnswerSchema, judgeModel } from './judge.js';
export {
  canonicalJson,
  loadRecording,
  RECORDING_VERSION,
  type RecordedModelCall,
  type RecordedToolCall,
  type Recording,
  recordingSchema,
  requestFingerprint,
  saveRecording,
} from './recording.js';
export { abMarkdown, evalMarkdown } from './report.js';
export {
  type CaseResult,
  checksOf,
  type EvalReport,
  type EvalSummary,
  type MetricSummary,
  type RunCaseOptions,
  type RunSuiteOptions,
  runCase,
  runSuite,
  type SampleResult,
  summarize,
} from './runner.js';
export { type MemberHooks, RecordingSession, type ReplayMode, ReplaySession } from './session.js';
export {
  type BootstrapInterval,
  type BootstrapOptions,
  type McNemarResult,
  MIN_SAMPLES_PER_VARIANT,
  mcnemarExact,
  pairedBootstrap,
  sampleSizeWarning,
  seededRandom,
} from './stats.js';
export {
  appendCase,
  type Check,
  type CheckKind,
  caseSchema,
  checkSchema,
  defineSuite,
  type EvalCase,
  loadSuite,
  SUITE_VERSION,
  type Suite,
  suiteSchema,
} from './suite.js';
export {
  customizeMember,
  inputFor,
  modelFor,
  type RunVariantOptions,
  runVariant,
  type TargetRun,
  type ToolCallRecord,
} from './target.js';
export { parseVariant, resolveVariant, type Variant, variantLabel, variantSchema } from './variant.js';
