import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpTransportConfig } from './config.js';

/** The last characters a server wrote on stderr, for error messages (a crash usually says why there). */
const STDERR_TAIL = 2_000;

export interface OpenedTransport {
  transport: Transport;
  /** What the server process last wrote on stderr (stdio with `capture`). */
  stderrTail(): string;
  /** The server's process id (stdio), once started. */
  pid(): number | undefined;
}

export function openTransport(config: McpTransportConfig): OpenedTransport {
  if ('custom' in config) {
    return { transport: config.custom(), stderrTail: () => '', pid: () => undefined };
  }
  if ('http' in config) {
    const url = config.http.url instanceof URL ? config.http.url : new URL(config.http.url);
    const headers = config.http.headers;
    const transport = new StreamableHTTPClientTransport(
      url,
      headers ? { requestInit: { headers: { ...headers } } } : {},
    );
    return { transport, stderrTail: () => '', pid: () => undefined };
  }
  const { command, args, env, cwd, stderr } = config.stdio;
  const capture = stderr !== 'inherit';
  const transport = new StdioClientTransport({
    command,
    args: [...(args ?? [])],
    ...(env ? { env: { ...env } } : {}),
    ...(cwd ? { cwd } : {}),
    stderr: capture ? 'pipe' : 'inherit',
  });
  let tail = '';
  // Read it always: an unread pipe fills up and the server blocks on its next log line.
  transport.stderr?.on('data', (chunk: Buffer | string) => {
    tail = (tail + String(chunk)).slice(-STDERR_TAIL);
  });
  return { transport, stderrTail: () => tail.trim(), pid: () => transport.pid ?? undefined };
}
