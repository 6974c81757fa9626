import type { Budget } from '../budget.js';
import { readToolCache, toolCacheSlot, writeToolCache } from '../cache/tool-cache.js';
import type { CacheLookup, RunCacheOptions } from '../cache/types.js';
import { abortReason, BatonError } from '../errors.js';
import { type RunScope, runInScope } from '../run/scope.js';
import { backoffDelay, sleep } from '../util/abort.js';
import { type AbortLike, RunAbort, withLazySignal } from '../util/run-signal.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import type { AnyTool, ToolContext, ToolCredentials } from './define.js';
import { failureFromError, type ToolResult, toolFailure } from './result.js';

export interface ToolInvocation {
  runId: string;
  agent: string;
  step: number;
  toolCallId: string;
  /** The run's signal: aborts on run timeout, user abort or kill. */
  signal: AbortLike;
  /** Calls per tool so far in this run, for `rateLimit.perRun`; updated here. */
  callCounts: Record<string, number>;
  /** The run's lease; runs the tool starts draw from it. */
  budget: Budget | undefined;
  /** The run's tenant: it scopes the tool's result cache and rate-limit window, and reaches the tool. */
  tenantId?: string;
  /** The run's user: it scopes the tool's result cache (unless the tool's cache is tenant-wide). */
  userId?: string;
  /** The run's cache settings (`RunOptions.cache`): the store, or no caching at all. */
  cache?: RunCacheOptions;
  sessionId?: string;
  /** The call was started before without a recorded outcome (see ToolContext.possibleDuplicate). */
  possibleDuplicate?: boolean;
  credentials: ToolCredentials;
}

export interface ToolOutcome {
  result: ToolResult;
  attempts: number;
  cached: boolean;
  /** What the cache lookup found, for a tool that caches. */
  cache?: CacheLookup;
}

/** Per tool, the call times of the last minute per tenant (`''` for runs without one). */
const minuteWindows = new WeakMap<AnyTool, Map<string, number[]>>();
const MINUTE = 60_000;

/**
 * Runs a tool whose arguments are already valid: rate limits, cache, per-attempt timeout through the
 * tool's AbortSignal, retries of retryable failures with backoff, output validation and the empty-result
 * check. Whatever happens, the outcome is a ToolResult: nothing is thrown at the loop.
 */
export async function invokeTool(tool: AnyTool, args: unknown, call: ToolInvocation): Promise<ToolOutcome> {
  const limited = checkRateLimit(tool, call);
  if (limited) return { result: limited, attempts: 0, cached: false };

  const slot = tool.cache ? toolCacheSlot(tool, args, call) : undefined;
  let lookup: CacheLookup | undefined;
  if (slot) {
    const cached = await readToolCache(tool, slot, call.signal);
    if (cached.data !== undefined) {
      return { result: { ok: true, data: cached.data }, attempts: 0, cached: true, cache: cached.lookup };
    }
    lookup = cached.lookup;
  }

  const started = performance.now();
  let attempt = 0;
  let result: ToolResult;
  for (;;) {
    attempt++;
    result = await attemptOnce(tool, args, call, attempt);
    if (result.ok || !result.error.retryable || attempt >= tool.retry.attempts || call.signal.aborted) break;
    try {
      await sleep(backoffDelay(attempt, tool.retry.initialDelayMs, tool.retry.maxDelayMs), call.signal);
    } catch {
      break;
    }
  }
  // Written before the result is returned: a second worker asking right after this one must find it.
  if (result.ok && slot)
    await writeToolCache(tool, slot, result.data, performance.now() - started, call.signal);
  return lookup
    ? { result, attempts: attempt, cached: false, cache: lookup }
    : { result, attempts: attempt, cached: false };
}

/**
 * One attempt, bounded by the tool's timeout and the run's signal even when the tool ignores its own.
 * The tool's AbortSignal is only made when the tool reads `context.signal`: most tools never do, and a
 * controller per call was a tenth of a step.
 */
function attemptOnce(
  tool: AnyTool,
  args: unknown,
  call: ToolInvocation,
  attempt: number,
): Promise<ToolResult> {
  if (call.signal.aborted) return Promise.resolve(failureFromError(abortReason(call.signal)));
  return new Promise<ToolResult>((resolve) => {
    // The tool's own cancellation: the first reason wins (a timeout after the run's abort keeps the abort).
    const stopped = new RunAbort();
    const finish = (result: ToolResult) => {
      if (timer === undefined) return;
      timer.clear();
      timer = undefined;
      call.signal.removeEventListener('abort', onRunAbort);
      resolve(result);
    };
    const stop = (reason: BatonError) => {
      stopped.abort(reason);
      finish(failureFromError(reason));
    };
    const onRunAbort = () => stop(abortReason(call.signal));
    let timer: LongTimer | undefined = setLongTimeout(() => {
      stop(
        new BatonError('TOOL_TIMEOUT', `Tool "${tool.name}" did not finish within ${tool.timeoutMs} ms`, {
          hint: 'Try narrower arguments, or continue without this result.',
        }),
      );
    }, tool.timeoutMs);
    call.signal.addEventListener('abort', onRunAbort, { once: true });
    const context: ToolContext = withLazySignal(
      {
        runId: call.runId,
        agent: call.agent,
        step: call.step,
        toolCallId: call.toolCallId,
        attempt,
        idempotencyKey: `${call.runId}:${call.toolCallId}`,
        possibleDuplicate: call.possibleDuplicate === true,
        credentials: call.credentials,
        ...(call.tenantId === undefined ? {} : { tenantId: call.tenantId }),
        ...(call.userId === undefined ? {} : { userId: call.userId }),
        ...(call.sessionId === undefined ? {} : { sessionId: call.sessionId }),
      },
      stopped,
    );
    // Whatever the tool starts (a run, a team, a remote agent) draws from this run's lease and stops with
    // this call: the scope carries both without the tool passing anything along.
    const scope = new ToolCallScope(call, context);
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(runInScope(scope, () => tool.execute(args as never, context)));
    } catch (thrown) {
      work = Promise.reject(thrown);
    }
    work.then(
      (data) => finish(checkOutput(tool, data)),
      (error: unknown) => finish(failureFromError(error)),
    );
  });
}

/**
 * The run scope of one tool call. A class, because V8 builds an object literal with a getter (the signal
 * is made on first read) several times slower, and one is built for every tool call.
 */
class ToolCallScope implements RunScope {
  constructor(
    private readonly call: ToolInvocation,
    private readonly context: ToolContext,
  ) {}
  get runId(): string {
    return this.call.runId;
  }
  get agent(): string {
    return this.call.agent;
  }
  get budget(): Budget | undefined {
    return this.call.budget;
  }
  get signal(): AbortSignal {
    return this.context.signal;
  }
  get tenantId(): string | undefined {
    return this.call.tenantId;
  }
  get userId(): string | undefined {
    return this.call.userId;
  }
  get sessionId(): string | undefined {
    return this.call.sessionId;
  }
}

function checkOutput(tool: AnyTool, data: unknown): ToolResult {
  if (data === undefined || data === null || data === '' || (Array.isArray(data) && data.length === 0)) {
    return toolFailure('TOOL_EMPTY_RESULT', `"${tool.name}" returned no results for these arguments.`, {
      hint: 'Try different or broader arguments, or continue without this result.',
    });
  }
  if (!tool.output) return { ok: true, data };
  const parsed = tool.output.safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data };
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(result)'}: ${issue.message}`,
  );
  return toolFailure(
    'TOOL_OUTPUT_INVALID',
    `"${tool.name}" returned a result that does not match its output schema.`,
    {
      details: { issues: problems },
      hint: 'This is a fault in the tool, not in your arguments. Continue without this result.',
    },
  );
}

function checkRateLimit(tool: AnyTool, call: ToolInvocation): ToolResult | undefined {
  const limit = tool.rateLimit;
  if (!limit) return undefined;
  const used = call.callCounts[tool.name] ?? 0;
  if (limit.perRun !== undefined && used >= limit.perRun) {
    return toolFailure(
      'TOOL_RATE_LIMITED',
      `"${tool.name}" may be called at most ${limit.perRun} times per run.`,
      {
        retryable: false,
        hint: 'Do not call this tool again in this run; use the results you already have.',
      },
    );
  }
  if (limit.perMinute !== undefined) {
    const now = Date.now();
    // One window per tenant: a busy tenant cannot use up another's calls (nor learn how busy it is).
    let windows = minuteWindows.get(tool);
    if (!windows) {
      windows = new Map();
      minuteWindows.set(tool, windows);
    }
    const tenant = call.tenantId ?? '';
    if (windows.size > MAX_IDLE_WINDOWS) forgetIdle(windows, now);
    const window = (windows.get(tenant) ?? []).filter((at) => now - at < MINUTE);
    windows.set(tenant, window);
    if (window.length >= limit.perMinute) {
      const waitMs = MINUTE - (now - (window[0] as number));
      return toolFailure(
        'TOOL_RATE_LIMITED',
        `"${tool.name}" is limited to ${limit.perMinute} calls per minute.`,
        {
          hint: `It frees up in ${Math.ceil(waitMs / 1000)} s. Continue with other work or the results you have.`,
          details: { retryAfterMs: waitMs },
        },
      );
    }
    window.push(now);
  }
  call.callCounts[tool.name] = used + 1;
  return undefined;
}

/** Tenants past this many per tool: windows with no call in the last minute are dropped. */
const MAX_IDLE_WINDOWS = 256;

function forgetIdle(windows: Map<string, number[]>, now: number): void {
  for (const [tenant, window] of windows) {
    const last = window.at(-1);
    if (last === undefined || now - last >= MINUTE) windows.delete(tenant);
  }
}
