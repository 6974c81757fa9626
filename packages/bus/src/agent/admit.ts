import { BatonError, type Guardrails, guardrailsFromSpec, type HandoffContract } from '@baton/core';
import { exceedsBytes } from '../bytes.js';
import { decodeEnvelope, type Envelope, parseContractId } from '../envelope.js';
import { boundedPrimitive, quote } from '../quote.js';
import { checkInput } from './contract-checks.js';

export interface AdmissionRules {
  agent: string;
  /** The one tenant this worker serves (its namespace): an envelope naming another is refused. */
  tenant?: string;
  contract: HandoffContract;
  maxPayload: number;
  maxHops: number;
}

export type Admission =
  | { ok: true; envelope: Envelope; input: unknown }
  | { ok: false; error: BatonError; envelope: Envelope | undefined };

/**
 * The caller's guards rebuilt when the envelope was admitted, by envelope: both the core and the durable
 * path hand the admitted envelope object itself to `Worker.execute`, which looks them up here.
 */
const admittedGuards = new WeakMap<Envelope, Guardrails>();

/** The guardrails the caller sent with an admitted invocation, rebuilt in this process. */
export function callerGuardrails(envelope: Envelope): Guardrails | undefined {
  return admittedGuards.get(envelope);
}

/**
 * Every check an invocation passes before it may run, cheapest first: size, JSON, envelope v1, kind,
 * tenant, addressee, contract name and version, hop limit, deadline, the input against the contract,
 * and the caller's guards, rebuilt here (a kind this process does not know refuses the invocation: the
 * member never runs with fewer guards than its caller asked for).
 */
export function admit(
  message: { size: number; string(): string },
  rules: AdmissionRules,
  now: number,
): Admission {
  const text = message.string();
  if (exceedsBytes(text, rules.maxPayload)) {
    const error = new BatonError(
      'PAYLOAD_TOO_LARGE',
      `The invocation is ${message.size} bytes; ${rules.agent} accepts at most ${rules.maxPayload}`,
      { details: { size: message.size, max: rules.maxPayload } },
    );
    return { ok: false, error, envelope: undefined };
  }
  const decoded = decodeEnvelope(text);
  if (!decoded.ok) return { ok: false, error: decoded.error, envelope: undefined };
  const envelope = decoded.envelope;
  if (envelope.kind !== 'invoke') {
    return rejected(
      envelope,
      new BatonError('ENVELOPE_INVALID', `Expected an "invoke" envelope, got "${envelope.kind}"`, {
        details: { reason: 'kind', kind: envelope.kind },
      }),
    );
  }
  if (rules.tenant !== undefined && envelope.tenant !== undefined && envelope.tenant !== rules.tenant) {
    return rejected(envelope, tenantMismatch(envelope.tenant, rules.tenant));
  }
  if (envelope.to !== rules.agent) {
    return rejected(
      envelope,
      new BatonError('AGENT_UNKNOWN', `This worker serves "${rules.agent}", not "${envelope.to}"`, {
        details: { to: envelope.to, agent: rules.agent },
      }),
    );
  }
  const contract = rules.contract;
  if (envelope.contract !== contract.id) {
    const parsed = parseContractId(envelope.contract);
    if (parsed && parsed.name === contract.name) {
      return rejected(
        envelope,
        new BatonError(
          'CONTRACT_VERSION',
          `${rules.agent} accepts ${contract.id}, not version ${parsed.version} of "${contract.name}"`,
          { details: { got: envelope.contract, accepted: [contract.id] } },
        ),
      );
    }
    return rejected(
      envelope,
      new BatonError('CONTRACT_UNKNOWN', `${rules.agent} does not accept contract "${envelope.contract}"`, {
        details: { got: envelope.contract, accepted: [contract.id] },
        hint: `Send ${contract.id}`,
      }),
    );
  }
  if (envelope.hop > rules.maxHops) {
    return rejected(
      envelope,
      new BatonError('HOP_LIMIT', `The handoff made ${envelope.hop} hops; the limit is ${rules.maxHops}`, {
        details: { hop: envelope.hop, max: rules.maxHops },
        hint: 'Agents may be handing work to each other in a loop',
      }),
    );
  }
  if (envelope.deadline !== null && envelope.deadline <= now) {
    return rejected(
      envelope,
      new BatonError(
        'DEADLINE_EXCEEDED',
        `The invocation arrived ${now - envelope.deadline} ms after its deadline`,
        {
          details: { deadline: envelope.deadline, now },
        },
      ),
    );
  }
  const checked = checkInput(contract, envelope.payload);
  if (!checked.ok) return rejected(envelope, checked.error);
  if (envelope.guards !== undefined) {
    try {
      admittedGuards.set(envelope, guardrailsFromSpec(envelope.guards));
    } catch (error) {
      return rejected(envelope, BatonError.wrap(error));
    }
  }
  return { ok: true, envelope, input: checked.input };
}

/**
 * An envelope for another tenant than the worker's. NATS accounts keep tenants apart on the wire; this is
 * the same rule one layer up, for deployments that share an account (or a misconfigured caller): work is
 * never run under a tenant id the worker does not serve, so tools, caches and audit records never mix.
 */
export function tenantMismatch(got: string, served: string): BatonError {
  return new BatonError('TENANT_MISMATCH', `This worker serves tenant "${served}", not ${quote(got)}`, {
    details: { tenant: boundedPrimitive(got), served },
    hint: 'Call it with RunOptions.tenantId equal to the bus namespace (or leave tenantId unset)',
  });
}

function rejected(envelope: Envelope, error: BatonError): Admission {
  return { ok: false, error, envelope };
}
