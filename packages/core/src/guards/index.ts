// Guardrails: the guard interface and the built-in guards, each a small module.
export type { AllowListGuardOptions, ToolArgumentGuardOptions } from './allow-list.js';
export {
  allowListGuard,
  injectionGuard,
  type KeywordModerationGuardOptions,
  keywordModerationGuard,
  lengthGuard,
  moderationGuard,
  piiGuard,
  readOnlySqlGuard,
} from './builtins.js';
export {
  detectInjection,
  INJECTION_REMOVED,
  type InjectionFinding,
  type InjectionGuardOptions,
  type InjectionJudge,
  type InjectionReport,
} from './injection.js';
export { countTokensUpTo, type LengthGuardOptions } from './length.js';
export {
  type KeywordModerationOptions,
  keywordModeration,
  type ModerationClassifier,
  type ModerationGuardOptions,
  type ModerationResult,
} from './moderation.js';
export {
  type ModerationsClient,
  type OpenAIModerationOptions,
  openAIModeration,
} from './moderation-openai.js';
export {
  cardBrand,
  describeFindings as describePiiFindings,
  detectPii,
  luhnValid,
  PII_KINDS,
  PII_LABELS,
  type PiiFinding,
  type PiiGuardOptions,
  type PiiKind,
  type PiiOptions,
  type RedactOptions,
  redactPii,
  ssnValid,
} from './pii.js';
export {
  evaluatePiiCorpus,
  type PiiCorpusMistake,
  type PiiCorpusReport,
  type PiiCorpusSample,
} from './pii-eval.js';
export {
  type GuardrailsSpec,
  type GuardSpec,
  guardFromSpec,
  guardrailsFromSpec,
  guardrailsSpecSchema,
  guardrailsToSpec,
  guardSpecOf,
  guardSpecSchema,
  isGuardrailsSpec,
  MAX_GUARD_OPTIONS_DEPTH,
  MAX_GUARD_SPEC_BYTES,
  portableGuard,
} from './portable.js';
export { entropyThreshold, looksRandom, type SecretKind, shannonEntropy } from './secrets.js';
export {
  checkReadOnlySql,
  DEFAULT_DENIED_SQL_FUNCTIONS,
  type ReadOnlySqlGuardOptions,
  type ReadOnlySqlOptions,
  type SqlCheck,
  type SqlDialect,
} from './sql.js';
export {
  type Guard,
  type GuardContext,
  type GuardFinding,
  type Guardrails,
  type GuardStage,
  type GuardVerdict,
  PASS,
} from './types.js';
