export {
  customAgent,
  echoAgent,
  echoContract,
  type HandAgentOptions,
  invokeEnvelope,
  type Observed,
  resultOf,
  sleep,
} from './agents.js';
export {
  agentConformance,
  type BusPair,
  busConformance,
  type ConformanceCase,
  type ConformanceContext,
  hostileConformance,
  malformedConformance,
  runConformanceCase,
  transportConformance,
  waitUntil,
} from './conformance/index.js';
export {
  findNatsServer,
  freePort,
  isProcessAlive,
  type NatsServer,
  type NatsServerOptions,
  startNatsServer,
} from './nats-server.js';
export {
  eventually,
  type Refusal,
  refusalOf,
  TenantClient,
  type TenantCredentials,
} from './tenancy/client.js';
export {
  type CrossTenantProbeOptions,
  type CrossTenantReport,
  probeCrossTenant,
} from './tenancy/probe.js';
export type { ProbeAttempt, ProbeKind, ProbeOutcome } from './tenancy/types.js';
export { PROBE_AGENT, PROBE_RUN, Victim, type VictimStream } from './tenancy/victim.js';
