import type { Command } from 'commander';
import type { Io } from '../io.js';
import { namespaceToken, portNumber, seconds } from '../parse.js';

/** baton a2a serve (issue 18 item 3). Only the definitions: the command modules load when one runs. */
export function registerA2aCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  const a2a = program
    .command('a2a')
    .description('the Agent2Agent protocol (A2A v1.0): serve an agent or a team as an A2A server');
  a2a
    .command('serve')
    .description(
      'serve an agent or a team as an A2A server (agent card, message/send, message/stream, tasks/get, tasks/cancel) until Ctrl-C',
    )
    .argument(
      '<agent|team>',
      'an agent (researcher, writer, …), a team (research, …), or a path to a team module',
    )
    .option('--port <port>', 'the port (default 4000; 0 picks a free one)', portNumber)
    .option('--host <address>', 'the address to listen on (default 127.0.0.1; others need --token)')
    .option('--token <secret>', 'require `Authorization: Bearer <secret>` on calls (or BATON_A2A_TOKEN)')
    .option('--timeout <seconds>', 'stop each run after this long', seconds('--timeout'))
    .option('--nats <url>', 'keep tasks and their events on NATS, so several servers answer for each other')
    .option(
      '--namespace <ns>',
      'with --nats: the tenant whose bucket and subjects hold the tasks',
      namespaceToken,
    )
    .action((reference: string, flags) =>
      finish(import('./a2a-serve.js').then(({ a2aServeCommand }) => a2aServeCommand(reference, flags, io))),
    );
}
