import { abortReason, BatonError, ToolError } from '@baton/core';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

/** How much of a server's error text reaches the model (it is the server's words, like any result). */
const MAX_ERROR_TEXT = 2_000;

type ContentBlock = CallToolResult['content'][number];

/**
 * What a tool result becomes for the model: the structured content when the server sent some (it is
 * checked against the tool's output schema by the SDK), else the text of a single text block, else the
 * blocks with binary payloads left out (base64 images are tokens the model cannot use as text).
 * The loop wraps it as untrusted data like any tool result.
 */
export function resultData(server: string, tool: string, result: CallToolResult): unknown {
  if (result.isError === true) {
    const text = textOf(result.content).slice(0, MAX_ERROR_TEXT);
    throw new ToolError('MCP_TOOL_ERROR', text || `The MCP tool "${tool}" of "${server}" reported an error`, {
      hint: 'The tool ran and failed: read the message, fix the arguments or continue without this result.',
    });
  }
  if (result.structuredContent !== undefined) return result.structuredContent;
  const blocks = (result.content ?? []).map(simplify);
  if (blocks.length === 1) {
    const only = blocks[0] as { type: string; text?: unknown };
    if (only.type === 'text' && typeof only.text === 'string') return only.text;
  }
  return blocks;
}

function textOf(content: readonly ContentBlock[] | undefined): string {
  return (content ?? [])
    .map((block) => (block.type === 'text' ? block.text : ''))
    .filter((text) => text !== '')
    .join('\n');
}

function simplify(block: ContentBlock): Record<string, unknown> {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
    case 'audio':
      return {
        type: block.type,
        mimeType: block.mimeType,
        omitted: `${block.data.length} base64 characters`,
      };
    case 'resource': {
      const resource = block.resource;
      return 'text' in resource
        ? { type: 'resource', uri: resource.uri, mimeType: resource.mimeType, text: resource.text }
        : { type: 'resource', uri: resource.uri, mimeType: resource.mimeType, omitted: 'binary content' };
    }
    case 'resource_link':
      return { type: 'resource_link', uri: block.uri, name: block.name, description: block.description };
    default:
      return { type: (block as { type?: unknown }).type ?? 'unknown' };
  }
}

/** Why a failed request failed, as a typed error; `lost` says the connection must be rebuilt. */
export function requestFailure(
  server: string,
  what: string,
  error: unknown,
  signal: AbortSignal | undefined,
): { error: BatonError; lost: boolean } {
  // The tool's own timer or the run aborted: invokeTool reports that reason, whatever the SDK threw.
  if (signal?.aborted) return { error: abortReason(signal), lost: false };
  if (error instanceof BatonError) return { error, lost: false };
  if (error instanceof McpError) {
    if (error.code === ErrorCode.ConnectionClosed)
      return { error: disconnected(server, what, error), lost: true };
    if (error.code === ErrorCode.RequestTimeout) {
      return {
        error: new BatonError('TOOL_TIMEOUT', `MCP server "${server}" did not answer ${what} in time`, {
          cause: error,
          hint: 'Try narrower arguments, or continue without this result.',
        }),
        lost: false,
      };
    }
    return {
      error: new BatonError('MCP_ERROR', `MCP server "${server}" refused ${what}: ${error.message}`, {
        cause: error,
        details: { mcpCode: error.code },
        hint: 'This is a fault between the client and the server, not in your arguments.',
      }),
      lost: false,
    };
  }
  // A session the HTTP server no longer knows (it restarted) needs a new handshake, like a lost transport.
  if (
    error instanceof StreamableHTTPError &&
    error.code !== 404 &&
    error.code !== undefined &&
    error.code < 500
  ) {
    return {
      error: new BatonError('MCP_ERROR', `MCP server "${server}" refused ${what}: ${error.message}`, {
        cause: error,
        details: { httpStatus: error.code },
      }),
      lost: false,
    };
  }
  // Anything else is the transport itself: a dead process, a refused connection, a broken pipe.
  return { error: disconnected(server, what, error), lost: true };
}

function disconnected(server: string, what: string, cause: unknown): BatonError {
  return new BatonError(
    'MCP_DISCONNECTED',
    `The connection to MCP server "${server}" was lost during ${what}: it may or may not have run`,
    {
      cause,
      hint: 'The client reconnects by itself; check whether the call took effect before repeating it.',
    },
  );
}

/** The HTTP server answered 404 to a request in a session: it no longer knows the session. */
export function unknownSession(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code === 404;
}
