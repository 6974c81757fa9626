import { A2A_PROTOCOL_VERSION, type AgentCard, type AgentSkill } from '@a2a-js/sdk';
import { z } from 'zod';
import type { A2aTarget } from './target.js';

/** The card extension that carries a Baton target's handoff contract (JSON Schemas of input and output). */
export const CONTRACT_EXTENSION = 'https://baton.dev/a2a/extensions/handoff-contract/v1';

export interface CardOptions {
  /** The JSON-RPC endpoint clients call (absolute URL). */
  url: string;
  /** The card's version; default 0.1.0. */
  version?: string;
  provider?: { organization: string; url: string };
  documentationUrl?: string;
}

/**
 * The agent card of a Baton agent or team: its description, one skill (the contract's description
 * and the JSON Schema of its input), text and JSON in and out, streaming, and the contract itself as
 * a card extension so a Baton client can check what it sends and gets back.
 */
export function agentCardOf(target: A2aTarget, options: CardOptions): AgentCard {
  const input = schemaOf(target.inputSchema);
  const output = schemaOf(target.outputSchema);
  const modes = ['text/plain', 'application/json'];
  const contract = target.contract;
  const skill: AgentSkill = {
    id: target.name,
    name: target.name,
    description: [
      contract?.description ?? target.description,
      input ? `Input (a data part, or text): ${JSON.stringify(input)}` : 'Input: text',
    ].join('\n'),
    tags: [target.kind, ...(contract ? [contract.id] : [])],
    examples: [],
    inputModes: modes,
    outputModes: output ? modes : ['text/plain'],
    securityRequirements: [],
  };
  return {
    name: target.name,
    description: target.description,
    supportedInterfaces: [
      { url: options.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION },
    ],
    provider: options.provider,
    version: options.version ?? '0.1.0',
    ...(options.documentationUrl ? { documentationUrl: options.documentationUrl } : {}),
    capabilities: {
      streaming: true,
      pushNotifications: false,
      extensions: [
        {
          uri: CONTRACT_EXTENSION,
          description: 'The Baton handoff contract: what a data part must hold, and what the answer holds',
          required: false,
          params: {
            contract: contract?.id ?? null,
            kind: target.kind,
            input: input ?? null,
            output: output ?? null,
          },
        },
      ],
      extendedAgentCard: false,
    },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: modes,
    defaultOutputModes: modes,
    skills: [skill],
    signatures: [],
  };
}

function schemaOf(schema: z.ZodType | undefined): Record<string, unknown> | undefined {
  if (!schema) return undefined;
  try {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    return rest;
  } catch {
    return undefined;
  }
}
