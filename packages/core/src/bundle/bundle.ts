import { z } from 'zod';
import type { Agent } from '../agent.js';
import type { Guard, Guardrails } from '../guards/types.js';
import { agentConfigOf, hashConfig } from '../journal/config-hash.js';
import { canonicalJson } from '../util/canonical.js';

/**
 * A versioned bundle: the sha256 of the canonical JSON of everything that changes how an agent (or a
 * team) behaves, with that JSON kept beside it so two versions can be compared field by field. A bundle
 * is a value: frozen, computed once per agent object (`agent.with(...)` makes a new agent, hence a new
 * bundle), and equal configurations give equal hashes whatever their key order.
 */
export interface Bundle {
  /** `sha256:<64 hex>`: the version a worker serves, a span, a metric and a journal entry carry. */
  readonly hash: string;
  readonly kind: 'agent' | 'team';
  readonly name: string;
  /** What the hash covers, as plain JSON. */
  readonly covers: Readonly<Record<string, unknown>>;
}

export const BUNDLE_PREFIX = 'sha256:';

const agentBundles = new WeakMap<Agent, Bundle>();

/**
 * The agent's bundle. It covers the journal's configuration hash (instructions, pinned model id and
 * provider, sampling parameters, tools with their JSON schemas and risk, limits, output schema, required
 * tools, context pipeline, planning) plus what the journal hash leaves out because a recorded step stays
 * valid without it: the guardrails, the untrusted-content policy and the input schema. Memory as the
 * agent sees it is covered through its memory tools and context stages; the store a run is given is
 * deployment, not behaviour.
 */
export function bundleOf(agent: Agent): Bundle {
  let bundle = agentBundles.get(agent);
  if (bundle === undefined) {
    const covers: Record<string, unknown> = {
      ...agentConfigOf(agent),
      guardrails: guardrailsShape(agent.config.guardrails),
      untrustedPolicy: agent.config.untrustedPolicy ?? 'approve',
      input: agent.config.input ? inputSchemaOf(agent) : null,
    };
    bundle = makeBundle('agent', agent.name, covers);
    agentBundles.set(agent, bundle);
  }
  return bundle;
}

/** A bundle over any covered JSON (a team's topology, a bundle read back from a file). */
export function makeBundle(kind: Bundle['kind'], name: string, covers: Record<string, unknown>): Bundle {
  // A copy through JSON: the agent's own objects (its limits, its tools' schemas) are never frozen here.
  const frozen = deepFreeze(JSON.parse(canonicalJson(covers)) as Record<string, unknown>);
  return Object.freeze({ hash: `${BUNDLE_PREFIX}${hashConfig(frozen)}`, kind, name, covers: frozen });
}

/** `sha256:abcdef012345` — the short form a table shows. */
export function shortBundle(hash: string, length = 12): string {
  return hash.startsWith(BUNDLE_PREFIX) ? `${hash.slice(0, BUNDLE_PREFIX.length + length)}` : hash;
}

/** Guards by what identifies their behaviour: name, stages, timeout and failure mode, per stage. */
export function guardrailsShape(guardrails: Guardrails | undefined): Record<string, unknown> | null {
  if (!guardrails) return null;
  const shape: Record<string, unknown> = {};
  for (const stage of ['input', 'output', 'toolInput', 'toolOutput', 'memoryWrite'] as const) {
    const guards = guardrails[stage];
    if (guards?.length) shape[stage] = guards.map(guardShape);
  }
  return Object.keys(shape).length > 0 ? shape : null;
}

function guardShape(guard: Guard): Record<string, unknown> {
  return {
    name: guard.name,
    stages: guard.stages ?? null,
    timeoutMs: guard.timeoutMs ?? null,
    onError: guard.onError ?? 'closed',
  };
}

function inputSchemaOf(agent: Agent): unknown {
  try {
    return z.toJSONSchema(agent.config.input as z.ZodType, { io: 'input', unrepresentable: 'any' });
  } catch {
    // A schema JSON Schema cannot describe (a transform) still marks the bundle as having one.
    return 'custom';
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}
