import { z } from 'zod';
import { BatonError, type BatonErrorCode } from './errors.js';
import type { Usage } from './model/types.js';

export interface BudgetLimits {
  maxSteps?: number;
  /** Input + output tokens (reasoning tokens included, whatever the provider's way of counting them). */
  maxTokens?: number;
  maxCostUsd?: number;
  /** Absolute deadline, epoch milliseconds. */
  deadline?: number;
}

export interface BudgetUsage {
  steps: number;
  tokens: number;
  /** Dollars of the steps that had a price. */
  costUsd: number;
  /** Steps whose cost is unknown (no price for the model, or no usage reported); absent when none. */
  unpricedSteps?: number;
}

/** What is left, the minimum over a ledger and all its ancestors; plain JSON so it travels in an envelope. */
export interface BudgetRemaining {
  steps?: number;
  tokens?: number;
  costUsd?: number;
  deadline?: number;
}

export interface BudgetCharge {
  steps?: number;
  usage?: Usage;
  tokens?: number;
  /** Dollars; leave undefined together with `unpriced` when the price is unknown. */
  costUsd?: number;
  /** Steps of this charge whose cost is unknown. */
  unpricedSteps?: number;
}

export type BudgetDimension = 'steps' | 'tokens' | 'cost' | 'time';

export interface BudgetBreach {
  dimension: BudgetDimension;
  code: Extract<
    BatonErrorCode,
    'BUDGET_STEPS' | 'BUDGET_TOKENS' | 'BUDGET_COST' | 'DEADLINE_EXCEEDED' | 'PRICE_UNKNOWN'
  >;
  limit: number;
  used: number;
  message: string;
}

export const budgetRemainingSchema = z.object({
  steps: z.number().nonnegative().optional(),
  tokens: z.number().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
  deadline: z.number().int().positive().optional(),
});

/** A charge as it crosses the bus when a remote member settles usage into its caller's ledger. */
export const budgetChargeSchema = z.object({
  steps: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  tokens: z.number().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  costUsd: z.number().nonnegative().max(1e12).optional(),
  unpricedSteps: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
});

const LIMIT_KEYS = ['maxSteps', 'maxTokens', 'maxCostUsd', 'deadline'] as const;

type BreachListener = (breach: BudgetBreach) => void;

/**
 * A ledger of steps, tokens, dollars and a deadline; a team's budget is a tree of them. A lease
 * (`lease()`, a child ledger) draws from its parent: every charge is recorded on the lease and on each
 * ancestor as it happens, and a lease is exhausted as soon as any ancestor is. A lease reserves nothing
 * up front — parallel members share what their parent has left, and each checks it before every model
 * step — so a team spends at most its limit plus one model step per member running at once. Remote
 * members settle into their caller's ledger the same way, step by step, over the bus.
 */
export class Budget {
  readonly parent: Budget | undefined;
  private currentLimits: Readonly<BudgetLimits>;
  private readonly spent: BudgetUsage = { steps: 0, tokens: 0, costUsd: 0 };
  private listeners: BreachListener[] | undefined;
  private reported = false;

  constructor(limits: BudgetLimits = {}, parent?: Budget) {
    this.currentLimits = checkLimits(limits);
    this.parent = parent;
  }

  /** Rebuilds a ledger from a remainder that crossed the bus. */
  static fromRemaining(remaining: BudgetRemaining): Budget {
    return new Budget(limitsFromRemaining(remaining));
  }

  get limits(): Readonly<BudgetLimits> {
    return this.currentLimits;
  }

  /** A lease drawn from this ledger, optionally with limits of its own (a member's own cap). */
  lease(limits: BudgetLimits = {}): Budget {
    return new Budget(limits, this);
  }

  /** The same as `lease`. */
  child(limits: BudgetLimits = {}): Budget {
    return this.lease(limits);
  }

  get used(): Readonly<BudgetUsage> {
    return this.spent;
  }

  charge(charge: BudgetCharge): void {
    const delta = usageOf(charge);
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      ledger.record(delta);
      if (ledger.listeners && !ledger.reported) ledger.notify();
    }
  }

  /**
   * Calls `listener` once, the first time a charge leaves this ledger exhausted (tokens, cost, steps, or
   * an unknown price under a cost limit) — a team uses it to cancel members still running. Deadlines are
   * timers, not charges: arm one with `deadline()`. Returns a function that removes the listener.
   */
  onBreach(listener: BreachListener): () => void {
    this.listeners ??= [];
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners?.filter((entry) => entry !== listener);
    };
  }

  remaining(): BudgetRemaining {
    const left: BudgetRemaining = {};
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      const { limits, spent } = ledger;
      if (limits.maxSteps !== undefined)
        left.steps = min(left.steps, Math.max(0, limits.maxSteps - spent.steps));
      if (limits.maxTokens !== undefined) {
        left.tokens = min(left.tokens, Math.max(0, limits.maxTokens - spent.tokens));
      }
      if (limits.maxCostUsd !== undefined) {
        left.costUsd = min(left.costUsd, Math.max(0, limits.maxCostUsd - spent.costUsd));
      }
      if (limits.deadline !== undefined) left.deadline = min(left.deadline, limits.deadline);
    }
    return left;
  }

  /** The earliest deadline over the chain, or undefined. */
  deadline(): number | undefined {
    let deadline: number | undefined;
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      if (ledger.limits.deadline !== undefined) deadline = min(deadline, ledger.limits.deadline);
    }
    return deadline;
  }

  /** The first limit reached on this ledger or an ancestor, or undefined while there is room. */
  breach(now: number = Date.now()): BudgetBreach | undefined {
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      const found = ledger.ownBreach(now);
      if (found) return found;
    }
    return undefined;
  }

  /** True when no ledger of the chain limits dollars: an unknown price is then only unknown, not an error. */
  get limitsCost(): boolean {
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      if (ledger.limits.maxCostUsd !== undefined) return true;
    }
    return false;
  }

  /**
   * Resolves once every charge made so far has reached the ledger that holds the limits — a remote
   * member's lease settles with its caller over the bus — or undefined when nothing is on its way.
   * The loop waits for it before checking the budget, so each step sees what its siblings spent.
   */
  settled(): Promise<void> | undefined {
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      const pending = ledger.pendingSettlement();
      if (pending) return pending;
    }
    return undefined;
  }

  /** The largest used/limit fraction over every dimension and ancestor (0 when nothing is limited). */
  pressure(): { dimension: BudgetDimension; fraction: number; used: number; limit: number } {
    let worst = { dimension: 'steps' as BudgetDimension, fraction: 0, used: 0, limit: 0 };
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      for (const [dimension, used, limit] of ledger.dimensions()) {
        const fraction = limit === 0 ? 1 : used / limit;
        if (fraction > worst.fraction) worst = { dimension, fraction, used, limit };
      }
    }
    return worst;
  }

  /** Records a charge on this ledger only; a lease that settles elsewhere extends it. */
  protected record(delta: BudgetUsage): void {
    this.spent.steps += delta.steps;
    this.spent.tokens += delta.tokens;
    this.spent.costUsd += delta.costUsd;
    if (delta.unpricedSteps) this.spent.unpricedSteps = (this.spent.unpricedSteps ?? 0) + delta.unpricedSteps;
  }

  /** Charges on their way to the ledger that holds the limits; see `settled()`. */
  protected pendingSettlement(): Promise<void> | undefined {
    return undefined;
  }

  /** Replaces this ledger's own limits (a remote lease learns its caller's remainder as it settles). */
  protected setLimits(limits: BudgetLimits): void {
    this.currentLimits = checkLimits(limits);
    if (this.listeners && !this.reported) this.notify();
  }

  private notify(): void {
    const found = this.ownBreach(Date.now(), false);
    if (!found) return;
    this.reported = true;
    for (const listener of this.listeners ?? []) listener(found);
  }

  private *dimensions(): Generator<[BudgetDimension, number, number]> {
    const { limits, spent } = this;
    if (limits.maxSteps !== undefined) yield ['steps', spent.steps, limits.maxSteps];
    if (limits.maxTokens !== undefined) yield ['tokens', spent.tokens, limits.maxTokens];
    if (limits.maxCostUsd !== undefined) yield ['cost', spent.costUsd, limits.maxCostUsd];
  }

  private ownBreach(now: number, withDeadline = true): BudgetBreach | undefined {
    const { limits, spent } = this;
    if (limits.maxCostUsd !== undefined && spent.unpricedSteps) {
      return {
        dimension: 'cost',
        code: 'PRICE_UNKNOWN',
        limit: limits.maxCostUsd,
        used: spent.costUsd,
        message: `A cost limit of $${limits.maxCostUsd} is set, but ${spent.unpricedSteps} step(s) used a model with no known price`,
      };
    }
    if (limits.maxTokens !== undefined && spent.tokens >= limits.maxTokens) {
      return breach('tokens', 'BUDGET_TOKENS', limits.maxTokens, spent.tokens, 'tokens');
    }
    if (limits.maxCostUsd !== undefined && spent.costUsd >= limits.maxCostUsd) {
      return breach('cost', 'BUDGET_COST', limits.maxCostUsd, spent.costUsd, 'USD');
    }
    if (limits.maxSteps !== undefined && spent.steps >= limits.maxSteps) {
      return breach('steps', 'BUDGET_STEPS', limits.maxSteps, spent.steps, 'steps');
    }
    if (withDeadline && limits.deadline !== undefined && now >= limits.deadline) {
      return {
        dimension: 'time',
        code: 'DEADLINE_EXCEEDED',
        limit: limits.deadline,
        used: now,
        message: `The deadline ${new Date(limits.deadline).toISOString()} has passed`,
      };
    }
    return undefined;
  }
}

/** The error a budget breach stops a run with. */
export function breachError(found: BudgetBreach): BatonError {
  return new BatonError(found.code, found.message, {
    details: { dimension: found.dimension, limit: found.limit, used: found.used },
    ...(found.code === 'PRICE_UNKNOWN'
      ? {
          hint: 'Give the model a price (setPrices() or the provider\'s "prices" option), or drop maxCostUsd',
        }
      : {}),
  });
}

export function limitsFromRemaining(remaining: BudgetRemaining): BudgetLimits {
  const limits: BudgetLimits = {};
  if (remaining.steps !== undefined) limits.maxSteps = remaining.steps;
  if (remaining.tokens !== undefined) limits.maxTokens = remaining.tokens;
  if (remaining.costUsd !== undefined) limits.maxCostUsd = remaining.costUsd;
  if (remaining.deadline !== undefined) limits.deadline = remaining.deadline;
  return limits;
}

function usageOf(charge: BudgetCharge): BudgetUsage {
  const tokens =
    (charge.tokens ?? 0) + (charge.usage ? charge.usage.inputTokens + charge.usage.outputTokens : 0);
  const delta: BudgetUsage = { steps: charge.steps ?? 0, tokens, costUsd: charge.costUsd ?? 0 };
  if (charge.unpricedSteps) delta.unpricedSteps = charge.unpricedSteps;
  return delta;
}

function checkLimits(limits: BudgetLimits): Readonly<BudgetLimits> {
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value) || value < 0)) {
      throw new BatonError('CONFIG_INVALID', `Budget: "${key}" must be a non-negative number`, {
        details: { field: key },
      });
    }
  }
  return { ...limits };
}

function breach(
  dimension: BudgetDimension,
  code: BudgetBreach['code'],
  limit: number,
  used: number,
  unit: string,
): BudgetBreach {
  const shown =
    unit === 'USD' ? `$${used.toFixed(4)} of $${limit.toFixed(4)}` : `${used} of ${limit} ${unit}`;
  return { dimension, code, limit, used, message: `Budget exhausted: used ${shown}` };
}

function min(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}
