import type { Attributes } from '@opentelemetry/api';
import type { BudgetLimits, BudgetUsage } from '../budget.js';
import { BatonAttr } from './attributes.js';

/** The limits that are amounts (a deadline is a moment, and the span's own times show it). */
const AMOUNTS = ['maxSteps', 'maxTokens', 'maxCostUsd'] as const;

/**
 * A run's or team's limits and what it used by its end, as span attributes — so a trace alone (the
 * console, any OTel backend) shows how close a run came to its budget, journaled or not. Undefined when
 * there is no limit to show.
 */
export function budgetAttributes(
  limits: Readonly<BudgetLimits>,
  used: Readonly<Pick<BudgetUsage, 'steps' | 'tokens' | 'costUsd'>>,
): Attributes | undefined {
  let attributes: Attributes | undefined;
  for (const key of AMOUNTS) {
    const limit = limits[key];
    if (typeof limit === 'number' && Number.isFinite(limit)) {
      attributes ??= {};
      attributes[`${BatonAttr.BUDGET_LIMIT_PREFIX}${key}`] = limit;
    }
  }
  if (attributes === undefined) return undefined;
  attributes[`${BatonAttr.BUDGET_USED_PREFIX}steps`] = used.steps;
  attributes[`${BatonAttr.BUDGET_USED_PREFIX}tokens`] = used.tokens;
  attributes[`${BatonAttr.BUDGET_USED_PREFIX}costUsd`] = used.costUsd;
  return attributes;
}
