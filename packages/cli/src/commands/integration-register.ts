import type { Command } from 'commander';
import type { Io } from '../io.js';
import { positiveInteger, seconds } from '../parse.js';

/**
 * baton nats-config and baton mcp: the configuration of a nats-server for tenants, and serving an agent or
 * a team to MCP clients. Only the definitions: the command modules load when one runs.
 */
export function registerIntegrationCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  program
    .command('nats-config')
    .description(
      'print the nats-server configuration that isolates tenants: one account each, least-privilege users per role',
    )
    .argument(
      '<file>',
      'the tenants (JSON): names, JetStream limits, users with roles; a password, a passwordEnv variable, or none (generated)',
    )
    .option('--out <path>', 'write the configuration to this file (owner-only) instead of stdout')
    .option(
      '--credentials <path>',
      "also write every user's password and inbox prefix as JSON (owner-only), for the clients",
    )
    .action((file: string, flags) =>
      finish(import('./nats-config.js').then(({ natsConfigCommand }) => natsConfigCommand(file, flags, io))),
    );

  const mcp = program
    .command('mcp')
    .description('the Model Context Protocol: serve an agent or a team as an MCP tool');
  mcp
    .command('serve')
    .description(
      'serve an agent or a team as one MCP tool, over stdio (default) or Streamable HTTP, until the client leaves or Ctrl-C',
    )
    .argument(
      '<agent|team>',
      'an agent (researcher, writer, …), a team (research, …), or a path to a team module',
    )
    .option('--http <port>', 'serve Streamable HTTP on this port (0 picks a free one) instead of stdio')
    .option(
      '--host <address>',
      'with --http: the address to listen on (default 127.0.0.1; others need --token)',
    )
    .option('--token <secret>', 'with --http: require `Authorization: Bearer <secret>` (or BATON_MCP_TOKEN)')
    .option('--timeout <seconds>', 'stop each run after this long', seconds('--timeout'))
    .option(
      '--concurrency <n>',
      'runs at once; more calls are answered "busy" (default 16)',
      positiveInteger('--concurrency'),
    )
    .action((reference: string, flags) =>
      finish(import('./mcp-serve.js').then(({ mcpServeCommand }) => mcpServeCommand(reference, flags, io))),
    );
}
