import type { Command } from 'commander';
import type { Io } from '../io.js';

/** baton trace ls and the retention of .baton/traces, removing a namespace's durable streams (issue 15 item 4). Only the definitions: the command modules load when one runs. */
export function registerHousekeepingCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  void program;
  void io;
  void finish;
}
