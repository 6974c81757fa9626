import { z } from 'zod';
import { BatonError, type BatonErrorCode } from './errors.js';
import type { Usage } from './model/types.js';

export interface BudgetLimits {
  maxSteps?: number;
  /** Input + output tokens. */
  maxTokens?: number;
  maxCostUsd?: number;
  /** Absolute deadline, epoch milliseconds. */
  deadline?: number;
}

export interface BudgetUsage {
  steps: number;
  tokens: number;
  costUsd: number;
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
  costUsd?: number;
}

export type BudgetDimension = 'steps' | 'tokens' | 'cost' | 'time';

export interface BudgetBreach {
  dimension: BudgetDimension;
  code: Extract<BatonErrorCode, 'BUDGET_STEPS' | 'BUDGET_TOKENS' | 'BUDGET_COST' | 'DEADLINE_EXCEEDED'>;
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

const LIMIT_KEYS = ['maxSteps', 'maxTokens', 'maxCostUsd', 'deadline'] as const;

/**
 * A ledger of steps, tokens, dollars and a deadline. A child ledger draws from its parent: every charge
 * is recorded on the child and on each ancestor, and a child is exhausted as soon as any ancestor is.
 * A team shares one root ledger; a remote member gets `remaining()` in its envelope and its usage is
 * charged back here when the result returns.
 */
export class Budget {
  readonly limits: Readonly<BudgetLimits>;
  readonly parent: Budget | undefined;
  private readonly spent: BudgetUsage = { steps: 0, tokens: 0, costUsd: 0 };

  constructor(limits: BudgetLimits = {}, parent?: Budget) {
    for (const key of LIMIT_KEYS) {
      const value = limits[key];
      if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value) || value < 0)) {
        throw new BatonError('CONFIG_INVALID', `Budget: "${key}" must be a non-negative number`, {
          details: { field: key },
        });
      }
    }
    this.limits = { ...limits };
    this.parent = parent;
  }

  /** Rebuilds a ledger from a remainder that crossed the bus. */
  static fromRemaining(remaining: BudgetRemaining): Budget {
    const limits: BudgetLimits = {};
    if (remaining.steps !== undefined) limits.maxSteps = remaining.steps;
    if (remaining.tokens !== undefined) limits.maxTokens = remaining.tokens;
    if (remaining.costUsd !== undefined) limits.maxCostUsd = remaining.costUsd;
    if (remaining.deadline !== undefined) limits.deadline = remaining.deadline;
    return new Budget(limits);
  }

  child(limits: BudgetLimits = {}): Budget {
    return new Budget(limits, this);
  }

  get used(): Readonly<BudgetUsage> {
    return this.spent;
  }

  charge(charge: BudgetCharge): void {
    const tokens =
      (charge.tokens ?? 0) + (charge.usage ? charge.usage.inputTokens + charge.usage.outputTokens : 0);
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      ledger.spent.steps += charge.steps ?? 0;
      ledger.spent.tokens += tokens;
      ledger.spent.costUsd += charge.costUsd ?? 0;
    }
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

  /** The largest used/limit fraction over every dimension and ancestor (0 when nothing is limited). */
  pressure(): { dimension: BudgetDimension; fraction: number; used: number; limit: number } {
    let worst = { dimension: 'steps' as BudgetDimension, fraction: 0, used: 0, limit: 0 };
    for (let ledger: Budget | undefined = this; ledger; ledger = ledger.parent) {
      for (const [dimension, used, limit] of ledger.dimensions()) {
        if (dimension === 'time') continue;
        const fraction = limit === 0 ? 1 : used / limit;
        if (fraction > worst.fraction) worst = { dimension, fraction, used, limit };
      }
    }
    return worst;
  }

  private *dimensions(): Generator<[BudgetDimension, number, number]> {
    const { limits, spent } = this;
    if (limits.maxSteps !== undefined) yield ['steps', spent.steps, limits.maxSteps];
    if (limits.maxTokens !== undefined) yield ['tokens', spent.tokens, limits.maxTokens];
    if (limits.maxCostUsd !== undefined) yield ['cost', spent.costUsd, limits.maxCostUsd];
  }

  private ownBreach(now: number): BudgetBreach | undefined {
    const { limits, spent } = this;
    if (limits.maxTokens !== undefined && spent.tokens >= limits.maxTokens) {
      return breach('tokens', 'BUDGET_TOKENS', limits.maxTokens, spent.tokens, 'tokens');
    }
    if (limits.maxCostUsd !== undefined && spent.costUsd >= limits.maxCostUsd) {
      return breach('cost', 'BUDGET_COST', limits.maxCostUsd, spent.costUsd, 'USD');
    }
    if (limits.maxSteps !== undefined && spent.steps >= limits.maxSteps) {
      return breach('steps', 'BUDGET_STEPS', limits.maxSteps, spent.steps, 'steps');
    }
    if (limits.deadline !== undefined && now >= limits.deadline) {
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
