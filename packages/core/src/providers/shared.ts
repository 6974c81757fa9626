import { randomUUID } from 'node:crypto';
import { BatonError } from '../errors.js';
import { costOf, type PriceTable } from '../model/pricing.js';
import type { ModelResponse, ToolCall } from '../model/types.js';

/**
 * Parses a model's tool-argument text. Empty text means no arguments (`{}`); invalid JSON never throws:
 * it lands in `argumentsError` so the tool reports TOOL_INPUT_INVALID to the model. Arguments encoded
 * twice (a JSON string holding a JSON object, seen from some servers) are unwrapped.
 */
export function parseToolArguments(raw: string): Pick<ToolCall, 'arguments' | 'argumentsError'> {
  if (raw.trim() === '') return { arguments: {} };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'string' && /^\s*[{[]/.test(parsed)) {
      try {
        return { arguments: JSON.parse(parsed) };
      } catch {
        return { arguments: parsed };
      }
    }
    return { arguments: parsed };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      arguments: undefined,
      argumentsError: `The arguments are not valid JSON (${reason}): ${JSON.stringify(raw.slice(0, 200))}`,
    };
  }
}

/** A call id for servers that send none; tool results are paired with calls by it. */
export function generatedCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

/** Sets `costUsd` from the price table: the reported model first, then the requested id. */
export function withCost(
  response: ModelResponse,
  requestedModel: string,
  prices?: PriceTable,
): ModelResponse {
  const cost =
    costOf(response.model, response.usage, prices) ?? costOf(requestedModel, response.usage, prices);
  if (cost !== undefined) response.costUsd = cost;
  return response;
}

/** The text of a `json_schema` name: OpenAI allows `^[a-zA-Z0-9_-]{1,64}$`. */
export function schemaName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'response' : cleaned;
}

/** An environment setting, or undefined when it is unset or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Builds an SDK client; a constructor that rejects its options is a configuration error. */
export function newClient<T>(label: string, create: () => T): T {
  try {
    return create();
  } catch (error) {
    throw new BatonError('CONFIG_INVALID', `${label}: ${(error as Error).message}`, { cause: error });
  }
}
