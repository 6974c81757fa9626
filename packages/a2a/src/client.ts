import { randomUUID } from 'node:crypto';
import { type AgentCard, TaskState } from '@a2a-js/sdk';
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';
import {
  type AgentLike,
  BatonError,
  type BatonErrorCode,
  type HandoffContract,
  inheritRunScope,
  type RunOptions,
  type RunResult,
  type RunStatus,
} from '@baton/core';
import { type Final, failed, finish, record, settle } from './client-result.js';
import { dataPart, isTerminal, textOf, textPart, userMessage } from './wire.js';

export interface A2aAgentOptions<I = unknown, O = unknown> {
  /** The agent's base URL: its card is at `<url>/.well-known/agent-card.json`. Or give `card`. */
  url?: string;
  /** The agent card, when you have it (no discovery request then). */
  card?: AgentCard;
  /** The member's name in the team (default the card's name, made a valid token). */
  name?: string;
  description?: string;
  /** Checks what is sent (its input) and what comes back (its output: the answer's data part, else its text). */
  contract?: HandoffContract<I, O>;
  /** The longest one call may take, cancel included (default 120 s); a team's deadline can shorten it. */
  timeoutMs?: number;
  /** After an abort or timeout: how long to wait for the remote task's canceled status (default 2 s). */
  cancelGraceMs?: number;
  /**
   * What one call costs when the server does not report its usage (servers other than Baton's): a known
   * price keeps a team with a cost limit going. Without it such a call is one step of unknown cost, and a
   * team with a cost limit stops before its next handoff (it cannot enforce a limit it cannot count).
   */
  costPerCallUsd?: number;
  /** Sent with every request (e.g. `{ authorization: 'Bearer …' }`). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export interface A2aAgent<I = unknown, O = unknown> extends AgentLike<I, O> {
  readonly kind: 'a2a';
  /** The remote agent's card (fetched on first use when only a URL was given). */
  card(): Promise<AgentCard>;
}

/**
 * A remote A2A agent (any framework's) as a Baton `AgentLike`, so it can be a member of a pipeline or a
 * supervisor team. Each run sends one message (a data part for structured input, with its JSON as text)
 * over `message/stream`; the answer is the task's artifact. An abort or timeout cancels the remote task
 * (`tasks/cancel`). `run` never rejects: an unreachable agent, a protocol error, a failed task or an
 * answer that breaks the contract's output schema all resolve to a RunResult with a typed error. The
 * remote usage is charged to the caller's budget when the server reports it (Baton servers do); from
 * other servers each call counts as one step of unknown cost, never as free.
 */
export function a2aAgent<I = unknown, O = unknown>(options: A2aAgentOptions<I, O>): A2aAgent<I, O> {
  if (!options || (options.url === undefined && options.card === undefined)) {
    throw new BatonError('CONFIG_INVALID', 'a2aAgent: give "url" or "card"');
  }
  if (options.contract !== undefined && options.contract.kind !== 'handoff') {
    throw new BatonError('CONFIG_INVALID', 'a2aAgent: "contract" must be made with defineHandoff()');
  }
  if (
    options.costPerCallUsd !== undefined &&
    !(Number.isFinite(options.costPerCallUsd) && options.costPerCallUsd >= 0)
  ) {
    throw new BatonError('CONFIG_INVALID', 'a2aAgent: "costPerCallUsd" must be a number ≥ 0', {
      details: { field: 'costPerCallUsd' },
    });
  }
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new BatonError('CONFIG_INVALID', 'a2aAgent: "timeoutMs" must be a positive number', {
      details: { field: 'timeoutMs' },
    });
  }
  const name = tokenOf(options.name ?? options.card?.name ?? hostOf(options.url ?? ''));
  const fetchImpl = withHeaders(options.fetch ?? fetch, options.headers ?? {});
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
    }),
  );
  let client: Promise<Client> | undefined;
  const connect = (): Promise<Client> => {
    client ??= (
      options.card
        ? factory.createFromAgentCard(options.card)
        : factory.createFromUrl(baseUrl(options.url ?? ''))
    ).catch((error: unknown) => {
      client = undefined;
      throw new BatonError(
        'A2A_UNAVAILABLE',
        `Cannot reach the A2A agent ${options.url ?? name}: ${messageOf(error)}`,
        {
          cause: error,
          details: { url: options.url ?? null },
        },
      );
    });
    return client;
  };

  const agent: A2aAgent<I, O> = {
    kind: 'a2a',
    name,
    description: options.description ?? options.card?.description ?? `${name} (A2A agent at ${options.url})`,
    card: async () => (await connect()).getAgentCard(),
    run: (input, given) => call(input, inheritRunScope(given ?? {})),
  };

  async function call(input: I, runOptions: RunOptions): Promise<RunResult<O>> {
    const started = performance.now();
    const runId = runOptions.runId ?? randomUUID();
    // Before anything was sent: nothing was spent.
    const fail = (code: BatonErrorCode, message: string, status?: RunStatus) =>
      failed<O>({ name, runId, started, error: new BatonError(code, message), status });

    let payload: unknown = input;
    if (options.contract) {
      const checked = options.contract.input.safeParse(input);
      if (!checked.success) {
        return fail(
          'HANDOFF_INVALID',
          `The input does not match ${options.contract.id}: ${checked.error.message}`,
        );
      }
      payload = checked.data;
    }
    const remaining = runOptions.budget?.remaining();
    if (
      remaining &&
      ((remaining.steps ?? 1) <= 0 || (remaining.tokens ?? 1) <= 0 || (remaining.costUsd ?? 1) <= 0)
    ) {
      return fail('BUDGET_STEPS', 'The budget is spent: the A2A agent was not called', 'budget_exceeded');
    }
    let budgetMs = timeoutMs;
    if (remaining?.deadline !== undefined) budgetMs = Math.min(budgetMs, remaining.deadline - Date.now());
    if (budgetMs <= 0)
      return fail('DEADLINE_EXCEEDED', 'The deadline passed before the A2A agent was called', 'timeout');
    if (runOptions.signal?.aborted)
      return fail('ABORTED', 'Aborted before the A2A agent was called', 'aborted');

    let connected: Client;
    try {
      connected = await connect();
    } catch (error) {
      const failure = BatonError.wrap(error);
      return failed<O>({ name, runId, started, error: failure });
    }

    const transport = new AbortController();
    const final: Final = {
      state: undefined,
      task: undefined,
      taskId: undefined,
      message: undefined,
      artifacts: [],
      metadata: {},
    };
    let stopReason: BatonError | undefined;
    let cancelSent = false;
    const sendCancel = () => {
      if (cancelSent || final.taskId === undefined) return;
      cancelSent = true;
      connected
        .cancelTask({ id: final.taskId, tenant: '', metadata: {} }, { signal: AbortSignal.timeout(5_000) })
        .catch(() => {});
    };
    // The remote task gets a cancel (at once, or as soon as its id arrives) and a grace period to end.
    const stop = (reason: BatonError) => {
      if (stopReason) return;
      stopReason = reason;
      const grace = setTimeout(() => transport.abort(reason), options.cancelGraceMs ?? 2_000);
      grace.unref();
      sendCancel();
    };
    const timer = setTimeout(
      () => stop(new BatonError('TIMEOUT', `The A2A agent did not answer within ${Math.round(budgetMs)} ms`)),
      budgetMs,
    );
    const onAbort = () => stop(new BatonError('ABORTED', 'The run was aborted: the A2A task was canceled'));
    runOptions.signal?.addEventListener('abort', onAbort, { once: true });

    const parts =
      typeof payload === 'string'
        ? [textPart(payload)]
        : [textPart(JSON.stringify(payload)), dataPart(payload)];
    try {
      const stream = connected.sendMessageStream(
        { tenant: '', message: userMessage(parts, randomUUID()), configuration: undefined, metadata: {} },
        { signal: transport.signal },
      );
      for await (const event of stream) {
        const item = event.payload;
        if (!item) continue;
        if (item.$case === 'task') {
          record(final, item.value);
          if (stopReason) sendCancel();
        } else if (item.$case === 'statusUpdate') {
          final.taskId ??= item.value.taskId;
          if (stopReason) sendCancel();
          final.state = item.value.status?.state;
          final.message = textOf(item.value.status?.message?.parts ?? []) ?? final.message;
          Object.assign(final.metadata, item.value.metadata ?? {});
        } else if (item.$case === 'artifactUpdate' && item.value.artifact) {
          final.artifacts.push(item.value.artifact);
        } else if (item.$case === 'message') {
          // A direct answer with no task.
          final.state = TaskState.TASK_STATE_COMPLETED;
          final.artifacts.push({
            artifactId: item.value.messageId,
            name: 'message',
            description: '',
            parts: item.value.parts,
            metadata: item.value.metadata,
            extensions: [],
          });
        }
        if (isTerminal(final.state)) break;
      }
      if (!isTerminal(final.state) && final.taskId !== undefined && !transport.signal.aborted) {
        // The stream ended early: the task's state is still on the server.
        record(final, await connected.getTask({ id: final.taskId, tenant: '', historyLength: 0 }));
      }
    } catch (error) {
      if (!stopReason && !isTerminal(final.state)) {
        clearTimeout(timer);
        runOptions.signal?.removeEventListener('abort', onAbort);
        const failure = BatonError.is(error)
          ? error
          : new BatonError(
              isTransport(error) ? 'A2A_UNAVAILABLE' : 'A2A_ERROR',
              `A2A call to ${name} failed: ${messageOf(error)}`,
              {
                cause: error,
              },
            );
        return settle(runOptions, failed<O>({ name, runId, started, error: failure }));
      }
    } finally {
      clearTimeout(timer);
      runOptions.signal?.removeEventListener('abort', onAbort);
    }
    const result = finish<O>({ name, runId, started, final, stopReason, contract: options.contract });
    if (result.unpriced?.models.includes(`a2a:${name}`) && options.costPerCallUsd !== undefined) {
      // The caller priced an unreported call: a known cost, not an unknown one.
      const { unpriced: _unknown, ...priced } = result;
      return settle(runOptions, { ...priced, costUsd: options.costPerCallUsd });
    }
    return settle(runOptions, result);
  }

  return agent;
}

function withHeaders(fetchImpl: typeof fetch, headers: Record<string, string>): typeof fetch {
  if (Object.keys(headers).length === 0) return fetchImpl;
  return (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [key, value] of Object.entries(headers)) merged.set(key, value);
    return fetchImpl(input, { ...init, headers: merged });
  };
}

function isTransport(error: unknown): boolean {
  const text = `${messageOf(error)} ${messageOf((error as { cause?: unknown })?.cause)}`;
  return /fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|socket|network|HTTP error/i.test(text);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? '');
}

/** The card path resolves against the URL, so `…/a2a/name` must end in `/` to keep its last segment. */
function baseUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'a2a-agent';
  }
}

function tokenOf(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return cleaned === '' ? 'a2a-agent' : cleaned;
}
