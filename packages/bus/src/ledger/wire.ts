import {
  type BudgetCharge,
  type BudgetRemaining,
  budgetChargeSchema,
  budgetRemainingSchema,
} from '@baton/core';
import { z } from 'zod';

/**
 * What a remote member sends its caller after each step (a settlement) and what it gets back: the
 * caller's remainder once the charge is in. Tiny, flat JSON: a settlement is at most a few hundred bytes,
 * so anything larger is refused before it is parsed.
 */
export const SETTLEMENT_MAX_BYTES = 4_096;

const settlementSchema = z.object({ v: z.literal(1), charge: budgetChargeSchema });
const settlementReplySchema = z.union([
  z.object({ v: z.literal(1), remaining: budgetRemainingSchema }),
  z.object({ v: z.literal(1), closed: z.literal(true) }),
]);

export type SettlementReply = { remaining: BudgetRemaining } | { closed: true };

export function encodeSettlement(charge: BudgetCharge): string {
  return JSON.stringify({ v: 1, charge });
}

export function encodeSettlementReply(reply: SettlementReply): string {
  return JSON.stringify({ v: 1, ...reply });
}

function parseSmall(text: string): unknown {
  if (text.length > SETTLEMENT_MAX_BYTES) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function readSettlement(text: string): BudgetCharge | undefined {
  const parsed = settlementSchema.safeParse(parseSmall(text));
  return parsed.success ? (parsed.data.charge as BudgetCharge) : undefined;
}

export function readSettlementReply(text: string): SettlementReply | undefined {
  const parsed = settlementReplySchema.safeParse(parseSmall(text));
  if (!parsed.success) return undefined;
  return 'closed' in parsed.data ? { closed: true } : { remaining: parsed.data.remaining as BudgetRemaining };
}
