import { BatonError } from '@baton/core';

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** A namespace becomes a subject token and part of a bucket name: the bus's rule. */
export function namespaceOf(where: string, namespace: string | undefined): string {
  const value = namespace ?? 'default';
  if (!TOKEN.test(value)) {
    throw new BatonError('CONFIG_INVALID', `${where}: "namespace" must be 1–64 letters, digits, "_" or "-"`, {
      details: { field: 'namespace' },
    });
  }
  return value;
}

/** The subjects of one A2A task (granted to callers under `baton.<ns>.a2a.>` by the tenancy permissions). */
export const a2aSubjects = {
  /** Every event of the task, as the replica running it publishes them. */
  events: (ns: string, taskId: string) => `baton.${ns}.a2a.task.${taskId}.events`,
  /** Cancel and liveness requests, answered by the replica running the task. */
  control: (ns: string, taskId: string) => `baton.${ns}.a2a.task.${taskId}.control`,
} as const;
