// @baton/serve: the HTTP gateway (`baton serve`).
export { createApp, GATEWAY_VERSION } from './app.js';
export type { Caller, GatewayEnv } from './auth.js';
export {
  type Catalogue,
  defaultCatalogue,
  type GatewayAgent,
  type GatewayTeam,
} from './catalogue.js';
export {
  type ApiKeyInput,
  apiKeySchema,
  keysFromEnv,
  type LoadConfigOptions,
  loadServeConfig,
  parseServeConfig,
  type RateLimit,
  type ResolvedKey,
  rateLimitSchema,
  resolveKeys,
  type ServeConfig,
  type ServeConfigInput,
  serveConfigSchema,
  sha256Hex,
} from './config.js';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { errorBody, httpStatusOf } from './http-errors.js';
export { openApiDocument } from './openapi.js';
export { type Take, TokenBuckets } from './rate-limit.js';
export { JOB_AGENT, jobContract } from './runs/dispatch.js';
export { NATS_RUN_RETENTION_MS, runsBucket } from './runs/nats-store.js';
export type { GatewayEvent } from './runs/target.js';
export {
  acceptedSchema,
  type GatewayRunStatus,
  isFinalStatus,
  RUN_STATUSES,
  type RunRequest,
  type RunView,
  runRequestSchema,
  runViewSchema,
} from './schemas.js';
export {
  DEFAULT_PORT,
  type GatewayServer,
  isLoopback,
  type StartGatewayOptions,
  startGateway,
} from './server.js';
export {
  checkWebhookUrl,
  deliverWebhook,
  signWebhook,
  verifyWebhook,
  WEBHOOK_HEADERS,
  type WebhookEvent,
  type WebhookOutcome,
  type WebhookSettings,
} from './webhook.js';
