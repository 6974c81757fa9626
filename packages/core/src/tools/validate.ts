import type { z } from 'zod';
import type { JsonSchema, ToolCall } from '../model/types.js';
import type { ToolPolicy } from '../run/types.js';
import { editDistance } from '../util/edit-distance.js';
import { type AnyTool, RISK_ORDER } from './define.js';
import { type ToolFailure, toolFailure } from './result.js';

export type PreparedCall =
  | { ok: true; tool: AnyTool; args: unknown }
  | { ok: false; tool: AnyTool | undefined; error: ToolFailure };

/**
 * Everything that can be decided before a tool runs: does it exist, are the arguments valid, may this
 * run use it. Each failure says what was wrong and what would be right, so the model can recover.
 */
export function prepareToolCall(
  call: ToolCall,
  tools: ReadonlyMap<string, AnyTool>,
  policy: ToolPolicy | undefined,
): PreparedCall {
  const tool = tools.get(call.name);
  if (!tool) {
    const names = [...tools.keys()];
    const closest = closestName(call.name, names);
    return {
      ok: false,
      tool: undefined,
      error: toolFailure(
        'TOOL_UNKNOWN',
        names.length === 0
          ? `Unknown tool "${call.name}": this agent has no tools. Answer directly.`
          : `Unknown tool "${call.name}". Valid tools: ${names.join(', ')}.`,
        {
          hint: closest ? `Did you mean "${closest}"?` : 'Call one of the valid tools.',
          details: { valid: names },
        },
      ).error,
    };
  }
  if (call.argumentsError !== undefined) {
    return {
      ok: false,
      tool,
      error: toolFailure(
        'TOOL_INPUT_INVALID',
        `Arguments for "${tool.name}" were not valid JSON: ${call.argumentsError}`,
        {
          hint: `Send a JSON object. Expected: ${describeSchema(tool.spec.parameters)}`,
        },
      ).error,
    };
  }
  const parsed = tool.input.safeParse(call.arguments ?? {});
  if (!parsed.success) {
    return { ok: false, tool, error: invalidArguments(tool, parsed.error) };
  }
  const denial = checkPolicy(tool, policy);
  if (denial) return { ok: false, tool, error: denial };
  return { ok: true, tool, args: parsed.data };
}

function invalidArguments(tool: AnyTool, error: z.ZodError): ToolFailure {
  const issues = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(arguments)';
    const options = 'values' in issue && Array.isArray(issue.values) ? issue.values : undefined;
    const valid = options ? ` (valid options: ${options.map((v) => JSON.stringify(v)).join(', ')})` : '';
    return { path, code: issue.code, message: `${issue.message}${valid}` };
  });
  const lines = issues.map((issue) => `- ${issue.path}: ${issue.message}`).join('\n');
  const expected = describeSchema(tool.spec.parameters);
  return toolFailure(
    'TOOL_INPUT_INVALID',
    `Invalid arguments for "${tool.name}":\n${lines}\nExpected: ${expected}`,
    {
      hint: 'Fix the listed arguments and call the tool again.',
      details: { issues },
    },
  ).error;
}

function checkPolicy(tool: AnyTool, policy: ToolPolicy | undefined): ToolFailure | undefined {
  if (!policy) return undefined;
  const denied =
    (policy.allow !== undefined && !policy.allow.includes(tool.name)) ||
    (policy.deny?.includes(tool.name) ?? false) ||
    (policy.maxRisk !== undefined && RISK_ORDER[tool.risk] > RISK_ORDER[policy.maxRisk]);
  if (!denied) return undefined;
  return toolFailure(
    'TOOL_PERMISSION_DENIED',
    `Permission denied: this run may not use "${tool.name}" (risk: ${tool.risk}).`,
    {
      hint: 'Do not retry this tool. Continue with the tools you are allowed to use, or answer with what you have.',
    },
  ).error;
}

/** A one-line summary of an arguments schema: `{ query: string, limit?: integer, mode?: "a" | "b" }`. */
export function describeSchema(schema: JsonSchema): string {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const fields = Object.entries(properties).map(
    ([name, property]) => `${name}${required.has(name) ? '' : '?'}: ${describeType(property)}`,
  );
  return `{ ${fields.join(', ')} }`;
}

function describeType(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if ('const' in schema) return JSON.stringify(schema.const);
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(variants)) return variants.map(describeType).join(' | ');
  if (schema.type === 'array') {
    const items = schema.items as JsonSchema | undefined;
    return `${items ? describeType(items) : 'unknown'}[]`;
  }
  if (schema.type === 'object') return schema.properties ? describeSchema(schema) : 'object';
  return typeof schema.type === 'string' ? schema.type : 'unknown';
}

function closestName(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
