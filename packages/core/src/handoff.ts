import { z } from 'zod';
import { configError } from './tools/define.js';

/**
 * What one agent sends another: typed data, not a chat transcript. The bus validates the input when it
 * is sent and when it is received, and the output on the way back; name and version must match.
 */
export interface HandoffContract<I = unknown, O = unknown> {
  readonly kind: 'handoff';
  readonly name: string;
  /** Integer major version; a receiver only accepts the versions it declares. */
  readonly version: number;
  readonly description: string | undefined;
  readonly input: z.ZodType<I>;
  readonly output: z.ZodType<O>;
  /** `name@version`, as it travels in envelopes. */
  readonly id: string;
}

export interface HandoffConfig<I, O> {
  /** Lower-case words joined by `.`, `-` or `_`, e.g. `research.request`. */
  name: string;
  version: number;
  description?: string;
  input: z.ZodType<I>;
  output: z.ZodType<O>;
}

const CONTRACT_NAME = /^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/;

export function defineHandoff<I, O>(config: HandoffConfig<I, O>): HandoffContract<I, O> {
  const where = `defineHandoff(${typeof config?.name === 'string' ? JSON.stringify(config.name) : '?'})`;
  if (typeof config !== 'object' || config === null)
    throw configError('defineHandoff', 'config', 'an object');
  if (typeof config.name !== 'string' || !CONTRACT_NAME.test(config.name) || config.name.length > 128) {
    throw configError(where, 'name', 'lower-case words joined by ".", "-" or "_" (e.g. "research.request")');
  }
  if (!Number.isInteger(config.version) || config.version < 1) {
    throw configError(where, 'version', 'an integer ≥ 1');
  }
  if (!(config.input instanceof z.ZodType)) throw configError(where, 'input', 'a zod schema');
  if (!(config.output instanceof z.ZodType)) throw configError(where, 'output', 'a zod schema');
  return Object.freeze({
    kind: 'handoff',
    name: config.name,
    version: config.version,
    description: config.description,
    input: config.input,
    output: config.output,
    id: `${config.name}@${config.version}`,
  });
}

export function isHandoffContract(value: unknown): value is HandoffContract {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'handoff';
}
