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
