import { type AnyTool, defineTool, type ToolContext, type ToolRisk } from '@baton/core';
import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { McpToolOverride, ResolvedMcpConfig } from './config.js';
import { batonToolName } from './names.js';
import { type Arguments, SchemaCompiler } from './schema.js';

/** Calls one MCP tool by its MCP name, on whatever connection is live. */
export type CallMcpTool = (mcpName: string, args: Arguments, context: ToolContext) => Promise<unknown>;

/** A tool the server lists that is not offered, and why. */
export interface SkippedMcpTool {
  tool: string;
  reason: string;
}

export interface McpToolSet {
  tools: AnyTool[];
  /** Baton name → MCP name. */
  names: ReadonlyMap<string, string>;
  skipped: SkippedMcpTool[];
}

/**
 * The risk of an MCP tool. Annotations are the server's claims about itself, so they count only for a
 * server the user trusts — then as the spec reads them: not read-only and not declared non-destructive
 * is destructive. Every tool of an untrusted server is `write`: approvals and the untrusted-content
 * policy apply to it whatever it says. An override is the user's own word and wins.
 */
export function riskOf(tool: McpTool, trusted: boolean, override: McpToolOverride | undefined): ToolRisk {
  if (override?.risk) return override.risk;
  if (!trusted) return 'write';
  const annotations = tool.annotations;
  if (annotations?.readOnlyHint === true) return 'read';
  if (annotations?.destructiveHint === false) return 'write';
  return 'destructive';
}

/**
 * Builds Baton tools from a server's tool list. A tool whose definition did not change keeps its object,
 * so its cache, rate-limit window and every agent holding it stay valid across refreshes.
 */
export class McpToolBuilder {
  private previous = new Map<string, AnyTool>();

  constructor(
    private readonly config: ResolvedMcpConfig,
    private readonly call: CallMcpTool,
  ) {}

  build(list: readonly McpTool[]): McpToolSet {
    const compiler = new SchemaCompiler();
    const next = new Map<string, AnyTool>();
    const names = new Map<string, string>();
    const skipped: SkippedMcpTool[] = [];
    const tools: AnyTool[] = [];
    for (const tool of list) {
      if (!this.offered(tool.name)) continue;
      if (tool.execution?.taskSupport === 'required') {
        skipped.push({
          tool: tool.name,
          reason: 'it can only run as an MCP task, which Baton does not call',
        });
        continue;
      }
      const name = batonToolName(this.config.name, tool.name);
      if (names.has(name)) {
        skipped.push({ tool: tool.name, reason: `its name "${name}" is taken by "${names.get(name)}"` });
        continue;
      }
      const override = this.config.overrides[tool.name];
      const key = JSON.stringify([
        tool.name,
        tool.description,
        tool.title,
        tool.inputSchema,
        tool.annotations,
        override,
      ]);
      let built = this.previous.get(key);
      if (!built) {
        try {
          built = this.define(tool, name, override, compiler);
        } catch (error) {
          skipped.push({
            tool: tool.name,
            reason: `its input schema cannot be used: ${(error as Error).message}`,
          });
          continue;
        }
      }
      next.set(key, built);
      names.set(name, tool.name);
      tools.push(built);
    }
    this.previous = next;
    return { tools, names, skipped };
  }

  private offered(name: string): boolean {
    const { include, exclude } = this.config;
    return (include === undefined || include.has(name)) && !exclude.has(name);
  }

  private define(
    tool: McpTool,
    name: string,
    override: McpToolOverride | undefined,
    compiler: SchemaCompiler,
  ): AnyTool {
    const { input, parameters } = compiler.compile(tool.inputSchema as Record<string, unknown>);
    const risk = riskOf(tool, this.config.trusted, override);
    const timeoutMs = override?.timeoutMs ?? this.config.timeoutMs;
    const maxResultTokens = override?.maxResultTokens ?? this.config.maxResultTokens;
    const mcpName = tool.name;
    const defined = defineTool<Arguments, unknown>({
      name,
      description: this.describe(tool),
      input,
      risk,
      timeoutMs,
      ...(maxResultTokens === undefined ? {} : { maxResultTokens }),
      ...(override?.needsApproval === undefined ? {} : { needsApproval: override.needsApproval }),
      // Whatever a server returns is its words: it taints the run like a web page would.
      untrustedOutput: true,
      safeAfterUntrusted: override?.safeAfterUntrusted ?? false,
      execute: (args, context) => this.call(mcpName, args, context),
    });
    // The model sees the server's own JSON Schema, not the stand-in zod schema that checks it.
    return { ...defined, spec: { name, description: defined.description, parameters, strict: false } };
  }

  private describe(tool: McpTool): string {
    const text = (tool.description ?? '').trim() || tool.title?.trim() || '';
    const description = text || `The "${tool.name}" tool of MCP server "${this.config.name}".`;
    const max = this.config.maxDescriptionChars;
    return description.length <= max ? description : `${description.slice(0, max - 1)}…`;
  }
}
