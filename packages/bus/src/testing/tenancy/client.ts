import { timerDelay } from '@baton/core';
import { tenantInboxPrefix } from '../../tenancy/permissions.js';
import type { TenantRole } from '../../tenancy/schema.js';
import { NatsBus, type PermissionDenial } from '../../transport/nats.js';

/** Who connects: one user of one tenant (as in the tenants given to `natsServerConfig`). */
export interface TenantCredentials {
  tenant: string;
  user: string;
  password: string;
  roles: readonly TenantRole[];
}

/**
 * A NatsBus connected as one tenant user (its inbox prefix set), that records every publish and
 * subscription the server refuses, so a test can ask whether something was refused without sleeping.
 */
export class TenantClient {
  readonly denials: PermissionDenial[] = [];
  private readonly waiters = new Set<{ matches: (denial: PermissionDenial) => boolean; wake: () => void }>();

  private constructor(
    readonly bus: NatsBus,
    readonly credentials: TenantCredentials,
  ) {
    bus.onPermissionDenied((denial) => {
      this.denials.push(denial);
      for (const waiter of this.waiters) if (waiter.matches(denial)) waiter.wake();
    });
  }

  /** Connects as `credentials`; a refused login is BUS_AUTH_FAILED. */
  static async connect(url: string, credentials: TenantCredentials, name?: string): Promise<TenantClient> {
    const bus = await NatsBus.connect({
      servers: url,
      name: name ?? credentials.user,
      inboxPrefix: tenantInboxPrefix(credentials.tenant),
      connectTimeoutMs: 10_000,
      reconnectTimeWaitMs: 100,
      connection: { user: credentials.user, pass: credentials.password },
    });
    return new TenantClient(bus, credentials);
  }

  get tenant(): string {
    return this.credentials.tenant;
  }

  get label(): string {
    return `${this.credentials.user} (${this.credentials.roles.join('+')} of ${this.credentials.tenant})`;
  }

  /**
   * Whether the server refused `operation` on `subject`, asked after everything sent before. The server
   * handles a connection's messages in order and answers a ping after reporting every refusal of what
   * came before it, so after a flush (and a turn of the event loop, for the report to reach the bus's
   * listeners) the answer is in: an allowed operation is told apart at once, without waiting for a
   * refusal that will not come.
   */
  async refused(
    operation: PermissionDenial['operation'],
    subject: string,
    timeoutMs: number,
  ): Promise<boolean> {
    const matches = (denial: PermissionDenial) =>
      denial.operation === operation && denial.subject === subject;
    if (this.denials.some(matches)) return true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.bus.connection.flush().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timerDelay(timeoutMs));
      }),
    ]);
    clearTimeout(timer);
    await new Promise((resolve) => setImmediate(resolve));
    return this.denials.some(matches);
  }

  /** True once the server has refused `operation` on `subject` (already, or within `timeoutMs`). */
  deniedWithin(
    operation: PermissionDenial['operation'],
    subject: string,
    timeoutMs: number,
  ): Promise<boolean> {
    const matches = (denial: PermissionDenial) =>
      denial.operation === operation && denial.subject === subject;
    if (this.denials.some(matches)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        matches,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timerDelay(timeoutMs));
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    await this.bus.close();
  }
}

/**
 * Why an operation that should not work did not: refused by permissions, absent from the caller's
 * account (a JetStream "not found", no responders), no answer at all, or another error.
 */
export type Refusal = 'permission' | 'absent' | 'timeout' | 'other';

/** Classifies an error thrown by nats.js or Baton, looking through its cause chain. */
export function refusalOf(error: unknown): Refusal {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    const { name, message, code } = current as { name?: unknown; message?: unknown; code?: unknown };
    if (name === 'PermissionViolationError' || code === 'BUS_PERMISSION_DENIED') return 'permission';
    const text = typeof message === 'string' ? message : '';
    if (/permissions violation/i.test(text)) return 'permission';
    if (
      name === 'StreamNotFoundError' ||
      name === 'ConsumerNotFoundError' ||
      name === 'NoRespondersError' ||
      code === 'NO_RESPONDERS' ||
      /not found|no responders|503/i.test(text)
    ) {
      return 'absent';
    }
    if (name === 'TimeoutError' || /timeout|timed out/i.test(text)) return 'timeout';
    current = (current as { cause?: unknown }).cause;
  }
  return 'other';
}

/** Resolves when `condition()` holds, polling every 10 ms; false after `timeoutMs` (a throw counts as no). */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(condition)
        .catch(() => false)
    )
      return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
