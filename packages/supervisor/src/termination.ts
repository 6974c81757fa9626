import { BatonError } from '@baton/core';

/** Where the team is, as the termination conditions see it after every handoff. */
export interface TeamProgress {
  /** Completed rounds (a pipeline pass, a supervisor delegation round, a debate round). */
  rounds: number;
  /** Handoffs so far: every member invocation counts one. */
  messages: number;
  tokens: number;
  costUsd: number;
  elapsedMs: number;
  /** The last member that answered, with its text and typed output. */
  last?: { agent: string; text: string; output: unknown };
}

export interface StopSignal {
  /** The condition that fired, e.g. `maxMessages(6)`. */
  condition: string;
  message: string;
  /** Set by `timeout`: the team ends with status `timeout` rather than `stopped`. */
  timedOut?: boolean;
  /** Set by conditions that fire on their own (timer, outside signal): in-flight members are cancelled. */
  interrupt?: boolean;
}

/**
 * A reason to stop a team. Conditions are checked after every handoff; time- and signal-based ones also
 * fire on their own through `start`. Once fired a condition stays fired (latched) until `reset`, which
 * the orchestrator calls when a team run ends, so one condition object serves many runs.
 */
export interface TerminationCondition {
  readonly description: string;
  /** Arms timers or listeners for a run; `fire` stops the team (and cancels in-flight members). */
  start?(fire: (signal: StopSignal) => void): void;
  check(progress: TeamProgress): StopSignal | undefined;
  reset(): void;
}

/** A condition that fires once its predicate holds, and stays fired until reset. */
function latched(
  description: string,
  predicate: (progress: TeamProgress) => string | undefined,
): TerminationCondition {
  let fired: StopSignal | undefined;
  return {
    description,
    check(progress) {
      if (fired) return fired;
      const message = predicate(progress);
      if (message !== undefined) fired = { condition: description, message };
      return fired;
    },
    reset() {
      fired = undefined;
    },
  };
}

function requirePositive(name: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new BatonError('CONFIG_INVALID', `${name}: the limit must be a positive number`, {
      details: { field: name },
    });
  }
}

export function maxRounds(limit: number): TerminationCondition {
  requirePositive('maxRounds', limit);
  return latched(`maxRounds(${limit})`, (p) =>
    p.rounds >= limit ? `${p.rounds} rounds reached the limit of ${limit}` : undefined,
  );
}

export function maxMessages(limit: number): TerminationCondition {
  requirePositive('maxMessages', limit);
  return latched(`maxMessages(${limit})`, (p) =>
    p.messages >= limit ? `${p.messages} handoffs reached the limit of ${limit}` : undefined,
  );
}

export function tokenBudget(limit: number): TerminationCondition {
  requirePositive('tokenBudget', limit);
  return latched(`tokenBudget(${limit})`, (p) =>
    p.tokens >= limit ? `${p.tokens} tokens used of ${limit}` : undefined,
  );
}

export function costBudget(limitUsd: number): TerminationCondition {
  requirePositive('costBudget', limitUsd);
  return latched(`costBudget(${limitUsd})`, (p) =>
    p.costUsd >= limitUsd ? `$${p.costUsd.toFixed(4)} spent of $${limitUsd}` : undefined,
  );
}

/** Fires when the last answer mentions `text` (case-sensitive), e.g. "TERMINATE" or "APPROVED". */
export function textMention(text: string): TerminationCondition {
  if (typeof text !== 'string' || text === '') {
    throw new BatonError('CONFIG_INVALID', 'textMention: the text must be a non-empty string', {
      details: { field: 'text' },
    });
  }
  return latched(`textMention(${JSON.stringify(text)})`, (p) =>
    p.last?.text.includes(text) ? `${p.last.agent} mentioned ${JSON.stringify(text)}` : undefined,
  );
}

/** Fires when `decide` returns true for the latest progress (for example a reviewer's typed verdict). */
export function verdict(
  decide: (progress: TeamProgress) => boolean,
  description = 'verdict',
): TerminationCondition {
  return latched(description, (p) => (decide(p) ? `${description} decided to stop` : undefined));
}

/**
 * A real timer: when it fires the team stops at once and its in-flight members — local or remote — are
 * cancelled through their abort signals.
 */
export function timeout(ms: number): TerminationCondition {
  requirePositive('timeout', ms);
  const description = `timeout(${ms})`;
  let timer: NodeJS.Timeout | undefined;
  let fired: StopSignal | undefined;
  return {
    description,
    start(fire) {
      clearTimeout(timer);
      timer = setTimeout(() => {
        fired = {
          condition: description,
          message: `the team ran for ${ms} ms`,
          timedOut: true,
          interrupt: true,
        };
        fire(fired);
      }, ms);
    },
    check: () => fired,
    reset() {
      clearTimeout(timer);
      timer = undefined;
      fired = undefined;
    },
  };
}

/** Stops the team when `signal` aborts (a user pressing stop, a parent shutting down). */
export function external(signal: AbortSignal, description = 'external'): TerminationCondition {
  let fired: StopSignal | undefined;
  let detach: (() => void) | undefined;
  const stop = (): StopSignal => ({
    condition: description,
    message: 'stopped from outside',
    interrupt: true,
  });
  return {
    description,
    start(fire) {
      detach?.();
      if (signal.aborted) {
        fired = stop();
        fire(fired);
        return;
      }
      const onAbort = () => {
        fired = stop();
        fire(fired);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      detach = () => signal.removeEventListener('abort', onAbort);
    },
    check: () => fired ?? (signal.aborted ? stop() : undefined),
    reset() {
      detach?.();
      detach = undefined;
      fired = undefined;
    },
  };
}

/** Fires as soon as any of its conditions fires; names the one that did. */
export function or(...conditions: TerminationCondition[]): TerminationCondition {
  return combine('or', conditions);
}

/**
 * Fires once every one of its conditions has fired — not necessarily at the same moment: each is latched,
 * so `and(maxMessages(4), textMention('DONE'))` stops at the first DONE after the fourth handoff.
 */
export function and(...conditions: TerminationCondition[]): TerminationCondition {
  return combine('and', conditions);
}

function combine(kind: 'or' | 'and', conditions: TerminationCondition[]): TerminationCondition {
  if (conditions.length === 0) {
    throw new BatonError('CONFIG_INVALID', `${kind}(): give at least one condition`, {
      details: { field: kind },
    });
  }
  const description = `${kind}(${conditions.map((c) => c.description).join(', ')})`;
  const seen = new Map<TerminationCondition, StopSignal>();
  let fired: StopSignal | undefined;
  const settle = (): StopSignal | undefined => {
    if (fired) return fired;
    if (kind === 'or') {
      const first = seen.values().next();
      if (!first.done) fired = first.value;
    } else if (seen.size === conditions.length) {
      const parts = conditions.map((c) => (seen.get(c) as StopSignal).message);
      const signals = [...seen.values()];
      fired = {
        condition: description,
        message: parts.join('; and '),
        timedOut: signals.some((s) => s.timedOut),
        interrupt: signals.some((s) => s.interrupt),
      };
    }
    return fired;
  };
  return {
    description,
    start(fire) {
      for (const condition of conditions) {
        condition.start?.((signal) => {
          seen.set(condition, signal);
          const result = settle();
          if (!result) return;
          // With `or`, a timer or an outside signal firing after a softer condition already latched must
          // still reach the team: it is what stops members that are still running.
          fire(kind === 'or' && signal.interrupt && !result.interrupt ? signal : result);
        });
      }
    },
    check(progress) {
      for (const condition of conditions) {
        const signal = condition.check(progress);
        if (signal) seen.set(condition, signal);
      }
      return settle();
    },
    reset() {
      for (const condition of conditions) condition.reset();
      seen.clear();
      fired = undefined;
    },
  };
}
