import { randomBytes } from 'node:crypto';
import type { Budget, BudgetUsage } from '@baton/core';
import { subjects } from '../subjects.js';
import type { Bus, BusMessage, BusSubscription } from '../transport/types.js';
import { encodeSettlementReply, readSettlement } from './wire.js';

/** A caller's side of one remote call's ledger: where the member settles, and what it settled so far. */
export interface LedgerChannel {
  /** The subject the member publishes its settlements to (sent in a header). */
  readonly subject: string;
  /** Everything settled through this channel so far. */
  readonly settled: Readonly<BudgetUsage>;
  /** Stops taking settlements: the call has its result, and the result's totals are what count now. */
  close(): void;
}

interface Entry {
  budget: Budget;
  settled: BudgetUsage;
}

/**
 * One subscription per bus and namespace answers the settlements of every remote call made through it:
 * `baton.<ns>.ledger.<service>.<call>`. A remote member charges its step to the caller's ledger here and
 * learns what the whole team has left, so parallel members share one remainder in every process.
 */
class LedgerService {
  private readonly prefix: string;
  private readonly entries = new Map<string, Entry>();
  private subscription: BusSubscription | undefined;
  private counter = 0;

  constructor(
    private readonly bus: Bus,
    namespace: string,
  ) {
    this.prefix = `${subjects.ledger(namespace, randomBytes(9).toString('base64url'))}.`;
  }

  open(budget: Budget): LedgerChannel {
    if (!this.subscription || this.subscription.closed) {
      this.subscription = this.bus.subscribe(`${this.prefix}*`, (message) => this.onSettlement(message));
    }
    const token = (++this.counter).toString(36);
    const entry: Entry = { budget, settled: { steps: 0, tokens: 0, costUsd: 0 } };
    this.entries.set(token, entry);
    return {
      subject: this.prefix + token,
      settled: entry.settled,
      close: () => {
        this.entries.delete(token);
      },
    };
  }

  private onSettlement(message: BusMessage): void {
    const entry = this.entries.get(message.subject.slice(this.prefix.length));
    const charge = entry ? readSettlement(message.string()) : undefined;
    if (entry && charge) {
      entry.budget.charge(charge);
      entry.settled.steps += charge.steps ?? 0;
      entry.settled.tokens += charge.tokens ?? 0;
      entry.settled.costUsd += charge.costUsd ?? 0;
      if (charge.unpricedSteps)
        entry.settled.unpricedSteps = (entry.settled.unpricedSteps ?? 0) + charge.unpricedSteps;
    }
    if (!message.reply) return;
    const reply = entry && charge ? { remaining: entry.budget.remaining() } : { closed: true as const };
    try {
      this.bus.publish(message.reply, encodeSettlementReply(reply));
    } catch {
      // The member keeps its last view of the remainder and settles in full with its result.
    }
  }
}

const services = new WeakMap<Bus, Map<string, LedgerService>>();

const LEDGER_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * True when `subject` is a ledger channel of `namespace` (`baton.<ns>.ledger.<service>.<call>`): a worker
 * publishes settlements only there, never to a subject a hostile header names.
 */
export function isLedgerSubject(subject: string, namespace: string): boolean {
  const prefix = `${subjects.ledger(namespace, '')}`;
  if (!subject.startsWith(prefix)) return false;
  const rest = subject.slice(prefix.length).split('.');
  return rest.length === 2 && rest.every((token) => LEDGER_TOKEN.test(token));
}

/** Opens a ledger channel for one remote call that draws from `budget`. */
export function openLedgerChannel(bus: Bus, namespace: string, budget: Budget): LedgerChannel {
  let byNamespace = services.get(bus);
  if (!byNamespace) {
    byNamespace = new Map();
    services.set(bus, byNamespace);
  }
  let service = byNamespace.get(namespace);
  if (!service) {
    service = new LedgerService(bus, namespace);
    byNamespace.set(namespace, service);
  }
  return service.open(budget);
}
