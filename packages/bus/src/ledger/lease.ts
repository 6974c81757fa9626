import { Budget, type BudgetRemaining, type BudgetUsage, limitsFromRemaining } from '@baton/core';
import type { Bus } from '../transport/types.js';
import { encodeSettlement, readSettlementReply } from './wire.js';

/** How long one settlement may take before the member stops settling and keeps its own view. */
const SETTLE_TIMEOUT_MS = 2_000;

/**
 * A remote member's ledger. It starts from the remainder its caller sent in the envelope and settles
 * every charge with the caller's ledger as it happens; each answer is the caller's new remainder (what
 * siblings spent included), which becomes this lease's limit. Before every model step the loop waits
 * for the settlement in flight, so no member steps on a remainder another member already spent.
 *
 * If the caller cannot be reached, the lease stops settling and keeps the last remainder it knew: the
 * member is still bounded by what it was given, and its result carries the totals the caller charges.
 */
export class RemoteLease extends Budget {
  private readonly unsent: BudgetUsage = { steps: 0, tokens: 0, costUsd: 0 };
  private readonly settledTotal: BudgetUsage = { steps: 0, tokens: 0, costUsd: 0 };
  private sending: Promise<void> | undefined;
  private broken = false;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly subject: string,
    remaining: BudgetRemaining,
  ) {
    super(limitsFromRemaining(remaining));
  }

  /** Stops settling (the result is about to carry the totals). */
  close(): void {
    this.closed = true;
  }

  protected override record(delta: BudgetUsage): void {
    super.record(delta);
    addInto(this.unsent, delta);
    // Checked here, not only in settle(): an async function that returns at once would leave a settled
    // promise behind that no later charge replaces.
    if (!this.sending && !this.closed && !this.broken && hasAny(this.unsent)) this.sending = this.settle();
  }

  protected override pendingSettlement(): Promise<void> | undefined {
    return this.sending;
  }

  private async settle(): Promise<void> {
    try {
      while (!this.closed && !this.broken && hasAny(this.unsent)) {
        const batch = { ...this.unsent };
        zero(this.unsent);
        const answer = await this.send(batch);
        if (!answer) {
          this.broken = true;
          break;
        }
        addInto(this.settledTotal, batch);
        if ('remaining' in answer) this.rebase(answer.remaining);
        else this.broken = true;
      }
    } finally {
      this.sending = undefined;
    }
  }

  private async send(batch: BudgetUsage): Promise<ReturnType<typeof readSettlementReply>> {
    const charge: Parameters<typeof encodeSettlement>[0] = {
      steps: batch.steps,
      tokens: batch.tokens,
      costUsd: batch.costUsd,
    };
    if (batch.unpricedSteps) charge.unpricedSteps = batch.unpricedSteps;
    try {
      const reply = await this.bus.request(this.subject, encodeSettlement(charge), {
        timeoutMs: SETTLE_TIMEOUT_MS,
      });
      return readSettlementReply(reply.string());
    } catch {
      return undefined;
    }
  }

  /** The caller's remainder after everything settled so far becomes this lease's limit. */
  private rebase(remaining: BudgetRemaining): void {
    const settled = this.settledTotal;
    const limits = limitsFromRemaining(remaining);
    if (limits.maxSteps !== undefined) limits.maxSteps += settled.steps;
    if (limits.maxTokens !== undefined) limits.maxTokens += settled.tokens;
    if (limits.maxCostUsd !== undefined) limits.maxCostUsd += settled.costUsd;
    if (limits.deadline === undefined && this.limits.deadline !== undefined)
      limits.deadline = this.limits.deadline;
    this.setLimits(limits);
  }
}

function addInto(into: BudgetUsage, delta: BudgetUsage): void {
  into.steps += delta.steps;
  into.tokens += delta.tokens;
  into.costUsd += delta.costUsd;
  if (delta.unpricedSteps) into.unpricedSteps = (into.unpricedSteps ?? 0) + delta.unpricedSteps;
}

function zero(usage: BudgetUsage): void {
  usage.steps = 0;
  usage.tokens = 0;
  usage.costUsd = 0;
  delete usage.unpricedSteps;
}

function hasAny(usage: BudgetUsage): boolean {
  return usage.steps > 0 || usage.tokens > 0 || usage.costUsd > 0 || (usage.unpricedSteps ?? 0) > 0;
}
