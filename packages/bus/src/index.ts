// Contracts live in core so agents can declare them without depending on the bus.
export { defineHandoff, type HandoffConfig, type HandoffContract, isHandoffContract } from '@baton/core';
export { type Admission, type AdmissionRules, admit } from './agent/admit.js';
export { currentInvocation, type InvocationContext } from './agent/context.js';
export {
  type ControlAck,
  type ControlRead,
  controlAckSchema,
  readCancel,
  readKill,
  readRegistryQuery,
} from './agent/control-messages.js';
export { remoteAgent } from './agent/remote.js';
export type {
  Delivery,
  RemoteAgent,
  RemoteAgentOptions,
  RemoteDurableOptions,
  Sender,
} from './agent/remote-types.js';
export { localResult, readRunResult, runResultSchema, statusFor } from './agent/run-result.js';
export { serveAgent } from './agent/serve.js';
export {
  type AgentWorker,
  DEFAULT_MAX_HOPS,
  type DrainOptions,
  type DurableServeOptions,
  type ServeAgentOptions,
} from './agent/worker-options.js';
export { type NatsAuditSinkOptions, natsAuditSink } from './audit/jetstream-sink.js';
export { type NatsCacheStoreOptions, natsCacheStore } from './cache/nats-cache-store.js';
export {
  DEAD_LETTER_DATA_LIMIT,
  DEAD_LETTER_HEADER_LIMIT,
  type DeadLetter,
  deadLetterSchema,
  type WatchDeadLettersOptions,
  watchDeadLetters,
} from './dead-letter.js';
export { exceedsJsonDepth, jsonDepth } from './depth.js';
export { type NatsApprovalsOptions, natsApprovals } from './durable/approvals.js';
export {
  DEFAULT_NATS_JOURNAL_MAX_AGE_MS,
  DEFAULT_NATS_JOURNAL_MAX_BYTES,
  type NatsJournalOptions,
  natsJournal,
} from './durable/journal.js';
export {
  type DecodeOptions,
  type DecodeResult,
  decodeEnvelope,
  ENVELOPE_KINDS,
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopeKind,
  encodeEnvelope,
  envelopeSchema,
  explainEnvelope,
  MAX_ENVELOPE_DEPTH,
  parseContractId,
  readEnvelope,
  SYSTEM_CONTRACTS,
  systemEnvelope,
} from './envelope.js';
export {
  type KillFlag,
  type KillPayload,
  type KillSwitchOptions,
  killFlagSchema,
  killFlags,
  killPayloadSchema,
  killSwitch,
  type PersistentKillOptions,
  persistentKill,
  unkill,
} from './kill.js';
export type { IndexCacheLimits } from './memory/kv-index-cache.js';
export {
  NatsKvMemoryStore,
  type NatsMemoryStoreOptions,
  natsMemoryStore,
} from './memory/nats-kv-store.js';
export { countDeadLetter, countInvocation, servedBundle } from './metrics.js';
export {
  type AgentInfo,
  agentInfoSchema,
  type ListAgentsOptions,
  listAgents,
  type WaitForAgentOptions,
  waitForAgent,
} from './registry.js';
export * from './rollout/index.js';
export * from './semaphore/index.js';
export {
  coordinationBuckets,
  DEFAULT_NAMESPACE,
  jetstreamNames,
  kvBuckets,
  subjects,
} from './subjects.js';
export { natsServerConfig, RESPONSES_PER_REQUEST, userPermissions } from './tenancy/config.js';
export {
  type PasswordSource,
  type ResolvedTenancyFile,
  type ResolveTenancyFileOptions,
  resolveTenancyFile,
  type TenancyFileUser,
} from './tenancy/file.js';
export {
  covers,
  durableInboxPrefix,
  mergePermissions,
  rolePermissions,
  type SubjectPermissions,
  tenantInboxPrefix,
} from './tenancy/permissions.js';
export {
  DEFAULT_RESPONSE_WINDOW_SECONDS,
  DEFAULT_TENANT_JETSTREAM,
  type NatsTenancy,
  type NatsTenancyInput,
  type NatsTenant,
  type NatsTenantUser,
  natsTenancySchema,
  parseNatsTenancy,
  TENANT_ROLES,
  type TenantRole,
} from './tenancy/schema.js';
export { extractTraceContext, HEADER, injectTraceContext, Messaging } from './trace-context.js';
export type { HandlerErrorListener } from './transport/handler-errors.js';
export {
  DEFAULT_MAX_PAYLOAD,
  InProcessBroker,
  InProcessBus,
  type InProcessBusOptions,
} from './transport/in-process.js';
export {
  NatsBus,
  type NatsBusOptions,
  type NatsBusWrapOptions,
  type PermissionDenial,
  permissionDenial,
  permissionDenied,
} from './transport/nats.js';
export type {
  Bus,
  BusHandler,
  BusHeaders,
  BusMessage,
  BusPayload,
  BusStatus,
  BusSubscription,
  BusTransport,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './transport/types.js';
