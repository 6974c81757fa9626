// @baton/a2a — A2A (protocol v1.0, through the official @a2a-js/sdk 1.3): serve a Baton agent or team as
// an A2A server, and call a remote A2A agent as a member of a Baton team.
export { A2A_PROTOCOL_VERSION } from '@a2a-js/sdk';
export { agentCardOf, type CardOptions, CONTRACT_EXTENSION } from './card.js';
export { type A2aAgent, type A2aAgentOptions, a2aAgent } from './client.js';
export {
  BATON_METADATA,
  BatonAgentExecutor,
  type BatonExecutorOptions,
  type RemoteControl,
} from './executor.js';
export {
  type A2aStores,
  BatonRequestHandler,
  type BatonRequestHandlerOptions,
  memoryA2aStores,
  natsA2aStores,
} from './handler.js';
export { type A2aRouteOptions, mountA2aEndpoint } from './http.js';
export { type A2aCatalogue, type A2aMount, type MountA2aOptions, mountA2a } from './mount.js';
export { a2aSubjects } from './names.js';
export { NatsEventBusManager, type NatsEventsOptions } from './nats-events.js';
export { a2aTasksBucket, mergeTasks, NatsTaskStore, type NatsTaskStoreOptions } from './nats-task-store.js';
export {
  type A2aHandlerOptions,
  type A2aServing,
  createA2aHandler,
  type ServeA2aOptions,
  serveA2a,
} from './serve.js';
export {
  type A2aRunner,
  type A2aServable,
  type A2aTarget,
  type A2aTargetOptions,
  a2aTarget,
  type Outcome,
  outcomeOf,
  type TeamLike,
  type TeamLikeResult,
} from './target.js';
