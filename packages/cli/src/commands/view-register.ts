import type { Command } from 'commander';
import type { Io } from '../io.js';
import { portNumber, seconds } from '../parse.js';

/** baton view, the web console (issue 17). Only the definitions: the command modules load when one runs. */
export function registerViewCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  program
    .command('view')
    .description(
      'open the web console on 127.0.0.1: runs, waterfalls, handoffs, approvals, metrics — live; start a team from the browser',
    )
    .option('--port <n>', 'the port (default 4477; 0 picks a free one)', portNumber)
    .option('--host <address>', 'the address to listen on (default 127.0.0.1: the console decides approvals)')
    .option('--dir <path>', 'the state directory: its traces, journal and approvals (default .baton)')
    .option(
      '--team <module>',
      'also offer a team module on the start page (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--evals <dir>', 'where eval and A/B reports are (default bench/results)')
    .option(
      '--timeout <seconds>',
      'team timeout of runs started from the page (default 120)',
      seconds('--timeout'),
    )
    .action((flags) => finish(import('./view.js').then(({ viewCommand }) => viewCommand(flags, io))));
}
