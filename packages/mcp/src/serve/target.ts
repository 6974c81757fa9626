import {
  type AgentLike,
  BatonError,
  type HandoffContract,
  isAgent,
  type JsonSchema,
  type RunResult,
} from '@baton/core';
import { z } from 'zod';

/** The part of a team (`@baton/supervisor`) serving needs; any `Team` is one. */
export interface TeamLike<I = unknown, O = unknown> {
  readonly kind: 'team';
  readonly name: string;
  readonly description: string;
  run(input: I, options?: { signal?: AbortSignal }): Promise<TeamLikeResult<O>>;
}

export interface TeamLikeResult<O = unknown> {
  status: string;
  output: O | undefined;
  stopReason: { kind: string; message: string };
  runId: string;
  traceId: string;
}

export type McpServable<I = unknown, O = unknown> = AgentLike<I, O> | TeamLike<I, O>;

export interface ServedToolOptions {
  /** The MCP tool's name; default the agent's or team's name (made valid). */
  toolName?: string;
  /** The tool's description; default the agent's or team's. */
  description?: string;
  /** The handoff contract: its input is the tool's input schema (an agent's output, its output schema). */
  contract?: HandoffContract;
  /** The input schema, when there is no contract. A non-object schema becomes `{ input: <schema> }`. */
  input?: z.ZodType;
  /** What a successful call returns, checked before it is sent (declared as the tool's output schema). */
  output?: z.ZodType;
  /** Turns the checked arguments into the run's input (default: the arguments, or `input` when wrapped). */
  toInput?: (args: Record<string, unknown>) => unknown;
  /** The text of the default `{ input: string }` argument. */
  inputDescription?: string;
}

/** The one MCP tool that runs the target: its definition and how to read a call. */
export interface ServedTool {
  name: string;
  description: string;
  inputSchema: JsonSchema & { type: 'object' };
  outputSchema: (JsonSchema & { type: 'object' }) | undefined;
  parse(args: unknown): { ok: true; input: unknown } | { ok: false; message: string };
  /** The structured output of a completed run, or why it does not match the declared output schema. */
  structured(
    output: unknown,
  ): { ok: true; value: Record<string, unknown> | undefined } | { ok: false; message: string };
}

export function isTeamLike(value: unknown): value is TeamLike {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'team';
}

export function servedTool(target: McpServable, options: ServedToolOptions): ServedTool {
  const name = toolNameOf(options.toolName ?? target.name);
  const declared =
    options.input ?? options.contract?.input ?? (isAgent(target) ? target.config.input : undefined);
  let schema: z.ZodType<Record<string, unknown>>;
  let toInput = options.toInput;
  if (declared === undefined) {
    schema = z.object({
      input: z
        .string()
        .min(1)
        .describe(options.inputDescription ?? 'The task, in words'),
    });
    toInput ??= (args) => args.input;
  } else if (jsonSchemaOf(declared).type === 'object') {
    schema = declared as z.ZodType<Record<string, unknown>>;
  } else {
    schema = z.object({ input: declared });
    toInput ??= (args) => args.input;
  }
  const output =
    options.output ?? (isTeamLike(target) ? undefined : (options.contract?.output ?? agentOutput(target)));
  const outputJson = output ? jsonSchemaOf(output) : undefined;
  const outputSchema =
    outputJson?.type === 'object' ? (outputJson as JsonSchema & { type: 'object' }) : undefined;
  const convert = toInput ?? ((args: Record<string, unknown>) => args);
  return {
    name,
    description: options.description ?? target.description,
    inputSchema: jsonSchemaOf(schema) as JsonSchema & { type: 'object' },
    outputSchema,
    parse(args) {
      const parsed = schema.safeParse(args ?? {});
      if (parsed.success) return { ok: true, input: convert(parsed.data) };
      const lines = parsed.error.issues.map(
        (issue) => `- ${issue.path.join('.') || '(arguments)'}: ${issue.message}`,
      );
      return { ok: false, message: `Invalid arguments for "${name}":\n${lines.join('\n')}` };
    },
    structured(value) {
      if (!outputSchema || !output) return { ok: true, value: undefined };
      const parsed = output.safeParse(value);
      if (!parsed.success)
        return { ok: false, message: `The result does not match the output schema: ${parsed.error.message}` };
      return { ok: true, value: parsed.data as Record<string, unknown> };
    },
  };
}

function agentOutput(target: McpServable): z.ZodType | undefined {
  return isAgent(target) ? target.config.output : undefined;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  try {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as JsonSchema;
    return rest;
  } catch (error) {
    throw new BatonError('CONFIG_INVALID', 'serveMcp: the input schema cannot be expressed as JSON Schema', {
      cause: error,
      details: { field: 'input' },
    });
  }
}

/** MCP tool names: 1–128 of letters, digits, `_`, `-`, `.` (SEP-986); Baton names already are. */
function toolNameOf(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 128);
  if (cleaned === '') throw new BatonError('CONFIG_INVALID', 'serveMcp: "toolName" must not be empty');
  return cleaned;
}

/** The text a run's answer is sent as. */
export function answerText(output: unknown): string {
  return typeof output === 'string' ? output : (JSON.stringify(output, null, 2) ?? '');
}

/** Why a run did not complete, for the calling model (a partial result is still worth reading). */
export function failureText(result: RunResult | TeamLikeResult): string {
  if ('stopReason' in result) {
    const partial = result.output === undefined ? '' : `\nPartial output:\n${answerText(result.output)}`;
    return `The team stopped (${result.status}): ${result.stopReason.message}${partial}`;
  }
  const error = result.error ? ` (${result.error.code}: ${result.error.message})` : '';
  return `The agent stopped (${result.status})${error}: ${result.partial.summary}`;
}
