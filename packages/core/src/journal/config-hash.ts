import { createHash } from 'node:crypto';
import type { Agent } from '../agent.js';
import { describeStages } from '../context/config.js';
import { planningShape } from '../planning/shape.js';
import { responseSchemaFor } from '../run/final-answer.js';
import { canonicalJson } from '../util/canonical.js';

const hashes = new WeakMap<Agent, string>();

/**
 * A hash of everything in an agent's configuration that changes how a run behaves: instructions (the
 * source of an instructions function), model, tools with their schemas and risk, limits, output schema,
 * required tools, sampling and the context pipeline. A journal records it when a run starts; resuming
 * that run with an agent whose hash differs is refused, since the recorded steps were taken by another
 * behaviour.
 */
export function agentConfigHash(agent: Agent): string {
  let hash = hashes.get(agent);
  if (hash === undefined) {
    hash = sha256(canonicalJson(agentConfigOf(agent)));
    hashes.set(agent, hash);
  }
  return hash;
}

/** What the hash covers, as plain JSON (so a change can be shown, not only detected). */
export function agentConfigOf(agent: Agent): Record<string, unknown> {
  const { config } = agent;
  return {
    kind: 'agent',
    name: agent.name,
    instructions: typeof config.instructions === 'string' ? config.instructions : String(config.instructions),
    model: { provider: config.model.provider, id: config.model.id },
    tools: [...agent.tools.values()].map((tool) => ({
      name: tool.name,
      description: tool.description,
      risk: tool.risk,
      parameters: tool.spec.parameters,
      once: tool.once,
    })),
    limits: agent.limits,
    output: responseSchemaFor(agent)?.schema ?? null,
    requiredTools: config.requiredTools ?? [],
    toolChoice: config.toolChoice ?? null,
    temperature: config.temperature ?? null,
    maxOutputTokens: config.maxOutputTokens ?? null,
    // Only when set, so the hash of an agent without a pipeline is what it was before pipelines existed.
    ...(config.context?.length ? { context: describeStages(config.context) } : {}),
    ...(config.planner === 'plan-execute' || config.reflect || config.grounding
      ? { planning: planningShape(agent) }
      : {}),
  };
}

/** A hash of any plain configuration value (canonical JSON, so key order does not matter). */
export function hashConfig(value: unknown): string {
  return sha256(canonicalJson(value));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
