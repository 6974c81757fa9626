import { type AnyTool, defineTool, type ToolContext } from '@baton/core';
import type { ReadResourceResult, Resource } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ResolvedMcpConfig } from './config.js';

/** The server's resource requests, on whatever connection is live. */
export interface ResourceAccess {
  list(
    cursor: string | undefined,
    context: ToolContext,
  ): Promise<{ resources: Resource[]; nextCursor?: string }>;
  read(uri: string, context: ToolContext): Promise<ReadResourceResult>;
}

/**
 * Two tools over a server's resources, so a model can find and read them: `<server>__list_resources` and
 * `<server>__read_resource`. Reading is what the protocol promises here, but the server's code decides
 * what a read does, so the usual rule holds: `read` only for a trusted server. The contents are the
 * server's words, wrapped as untrusted data like every tool result.
 */
export function resourceTools(config: ResolvedMcpConfig, access: ResourceAccess): AnyTool[] {
  const risk = config.trusted ? 'read' : 'write';
  const common = {
    risk,
    timeoutMs: config.timeoutMs,
    untrustedOutput: true,
    ...(config.maxResultTokens === undefined ? {} : { maxResultTokens: config.maxResultTokens }),
  } as const;
  const list = defineTool({
    ...common,
    name: `${config.name}__list_resources`,
    description: `Lists the resources (documents, files, records) of MCP server "${config.name}": uri, name, description, type.`,
    input: z.object({ cursor: z.string().optional().describe('nextCursor of a previous page') }),
    execute: async ({ cursor }, context) => {
      const page = await access.list(cursor, context);
      const resources = page.resources.map(({ uri, name, title, description, mimeType }) => ({
        uri,
        name: title ?? name,
        ...(description ? { description } : {}),
        ...(mimeType ? { mimeType } : {}),
      }));
      return page.nextCursor ? { resources, nextCursor: page.nextCursor } : { resources };
    },
  });
  const read = defineTool({
    ...common,
    name: `${config.name}__read_resource`,
    description: `Reads one resource of MCP server "${config.name}" by its uri (from ${config.name}__list_resources).`,
    input: z.object({ uri: z.string().min(1) }),
    execute: async ({ uri }, context) => {
      const result = await access.read(uri, context);
      const contents = result.contents.map((content) =>
        'text' in content && typeof content.text === 'string'
          ? { uri: content.uri, mimeType: content.mimeType, text: content.text }
          : { uri: content.uri, mimeType: content.mimeType, omitted: 'binary content' },
      );
      const only = contents[0];
      return contents.length === 1 && only && 'text' in only ? only.text : contents;
    },
  });
  return [list as AnyTool, read as AnyTool];
}
