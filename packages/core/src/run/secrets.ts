import { BatonError } from '../errors.js';
import type { ToolCredentials } from '../tools/define.js';
import type { ToolResult } from '../tools/result.js';
import type { LoopState } from './state.js';
import type { RunOptions } from './types.js';

/**
 * A tool's view of the run's credentials provider: it asks for a secret by name and gets one scoped to
 * this run, this tool and this user. Every secret handed out is remembered, so it can be cut out of
 * whatever the tool returns before the model, the journal, events, spans or the result see it.
 */
export function credentialsFor(
  state: LoopState,
  options: RunOptions,
  agent: string,
  tool: string,
): ToolCredentials {
  return {
    async get(name: string): Promise<string> {
      const provider = options.credentials;
      const request: Parameters<NonNullable<RunOptions['credentials']>>[0] = {
        name,
        tool,
        runId: state.runId,
        agent,
      };
      if (options.userId !== undefined) request.userId = options.userId;
      const value = provider ? await provider(request) : undefined;
      if (typeof value !== 'string' || value === '') {
        throw new BatonError(
          'TOOL_PERMISSION_DENIED',
          `No credential "${name}" is granted to ${tool} in this run`,
          {
            details: { name, tool },
          },
        );
      }
      state.secrets ??= new Map();
      state.secrets.set(value, name);
      return value;
    },
  };
}

/** The result with every secret handed out in this run replaced by `[REDACTED:<name>]`. */
export function redactSecrets(
  result: ToolResult,
  secrets: ReadonlyMap<string, string> | undefined,
): ToolResult {
  if (!secrets || secrets.size === 0) return result;
  return redactValue(result, secrets) as ToolResult;
}

function redactValue(value: unknown, secrets: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const [secret, name] of secrets) {
      if (text.includes(secret)) text = text.split(secret).join(`[REDACTED:${name}]`);
    }
    return text;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, secrets)]));
  }
  return value;
}
