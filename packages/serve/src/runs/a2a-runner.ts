import { type A2aRunner, type Outcome, outcomeOf, type TeamLikeResult } from '@baton/a2a';
import type { EventHub, RunResult } from '@baton/core';
import type { GatewayServices } from '../services.js';
import { newRunId, type RunRecord } from './record.js';
import type { GatewayEvent } from './target.js';

/** The key an A2A task's run record names: A2A calls pass the API key, but a task has no webhook of its own. */
export const A2A_KEY_ID = 'a2a';

/**
 * A2A tasks of one tenant's team or agent, run by the gateway's executor like `POST /v1/runs`: each task
 * gets a run record (`GET /v1/runs/{id}`, mode `a2a`), a journal, and durable approvals — a call that
 * needs a person pauses the run (the task stays `working` and says what it waits for) until it is decided
 * through `/v1/approvals`, the CLI or the console, then the run resumes and the task completes.
 */
export function a2aRunner(
  services: GatewayServices,
  tenant: string,
  target: { kind: 'team' | 'agent'; name: string },
): A2aRunner {
  return async (input, { signal, events }) => {
    const now = Date.now();
    const record: RunRecord = {
      v: 1,
      id: newRunId(target.name),
      tenant,
      keyId: A2A_KEY_ID,
      kind: target.kind,
      name: target.name,
      mode: 'a2a',
      status: 'queued',
      createdAt: now,
      updatedAt: now,
    };
    await services.store.create(record);
    // The task's hub hears the run's and the team's events alike (its progress lines read both).
    const final = await services.executor.start(record, input, {
      events: events as unknown as EventHub<GatewayEvent>,
      signal,
    }).done;
    return taskOutcome(final);
  };
}

/** A finished run record as an A2A task reports it: from the stored result when it has one. */
export function taskOutcome(record: RunRecord): Outcome {
  const result = record.result as (RunResult & TeamLikeResult) | undefined;
  if (result && typeof result === 'object' && 'usage' in result && result.status === record.status) {
    return outcomeOf(record.kind, result);
  }
  const error = record.error ? ` (${record.error.code}: ${record.error.message})` : '';
  return {
    status: record.status,
    output: record.output,
    failure: record.status === 'completed' ? undefined : `${record.status}${error}`,
    usage: { steps: 0, inputTokens: 0, outputTokens: 0, tokens: 0, costUsd: 0 },
    runId: record.id,
    traceId: record.traceId ?? '',
  };
}
