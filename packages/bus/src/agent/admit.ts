import { BatonError, type HandoffContract } from '@baton/core';
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
 * Every check an invocation passes before it may run, cheapest first: size, JSON, envelope v1, kind,
 * tenant, addressee, contract name and version, hop limit, deadline, and the input against the contract.
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
  return checked.ok ? { ok: true, envelope, input: checked.input } : rejected(envelope, checked.error);
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
