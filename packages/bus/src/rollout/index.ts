export { checkBundleId, isBundleId } from './bundle-id.js';
export {
  judgeOutcome,
  publishOutcome,
  type RunOutcome,
  runOutcomeSchema,
  subscribeOutcomes,
} from './outcomes.js';
export {
  type ArmStats,
  type Canary,
  chooseBundle,
  HISTORY_LIMIT,
  type RollbackEvidence,
  type RolloutAction,
  type RolloutPointer,
  type RolloutRecord,
  rolloutPointerSchema,
  rolloutRecordSchema,
  trafficBucketOf,
} from './pointer.js';
export { type RolloutAgent, type RolloutAgentOptions, rolloutAgent } from './router.js';
export {
  type ChangeOptions,
  type PointerRead,
  type RollbackOptions,
  type RolloutStore,
  type RolloutStoreOptions,
  rolloutStore,
} from './store.js';
export {
  type RollbackEvent,
  type RolloutWatcher,
  type RolloutWatcherOptions,
  rolloutWatcher,
} from './watcher.js';
