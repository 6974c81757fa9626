// Recovery beyond backoff: modified retries, fallback tools, human escalation (issue 14).
export {
  ASK_HUMAN,
  type AskHumanInput,
  type AskHumanOptions,
  type AskHumanOutput,
  askHuman,
  isEscalationTool,
} from './ask-human.js';
export type { RetryFailure, ToolRecovery, ToolRecoveryConfig } from './config.js';
export { escalationStats } from './metrics.js';
