import { BatonError } from '@baton/core';

/** A publish or subscription the NATS server refused for this connection's user. */
export interface PermissionDenial {
  operation: 'publish' | 'subscription';
  subject: string;
  queue?: string;
}

/** The denial a nats.js error describes, when it is a permission violation. */
export function permissionDenial(error: unknown): PermissionDenial | undefined {
  const candidate = error as { name?: unknown; operation?: unknown; subject?: unknown; queue?: unknown };
  if (candidate?.name !== 'PermissionViolationError' || typeof candidate.subject !== 'string')
    return undefined;
  const denial: PermissionDenial = {
    operation: candidate.operation === 'subscription' ? 'subscription' : 'publish',
    subject: candidate.subject,
  };
  if (typeof candidate.queue === 'string') denial.queue = candidate.queue;
  return denial;
}

/** A bus that reports the publishes and subscriptions its server refuses (NatsBus). */
export interface DenialReporting {
  onPermissionDenied(listener: (denial: PermissionDenial) => void): () => void;
}

export function reportsDenials(bus: object): bus is DenialReporting {
  // Duck-typed rather than `instanceof NatsBus`: a second copy of the package must still count.
  return typeof (bus as Partial<DenialReporting>).onPermissionDenied === 'function';
}

export function permissionDenied(denial: PermissionDenial, hint?: string): BatonError {
  const verb = denial.operation === 'publish' ? 'publish to' : 'subscribe to';
  return new BatonError(
    'BUS_PERMISSION_DENIED',
    `The NATS server does not let this user ${verb} "${denial.subject}"`,
    {
      details: { ...denial },
      hint: hint ?? "Check the user's permissions (baton nats-config) and the namespace it works in",
    },
  );
}
