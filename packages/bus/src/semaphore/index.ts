export { type SemaphoreModelOptions, semaphoreModel } from './model.js';
export { type NatsSemaphoreOptions, natsSemaphore } from './nats-semaphore.js';
export {
  type AcquireOptions,
  type Permit,
  type Priority,
  type PriorityClass,
  priorityValue,
  type Semaphore,
} from './types.js';
