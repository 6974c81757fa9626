import type { Command } from 'commander';
import type { Io } from '../io.js';

/** baton a2a serve (issue 18 item 3). Only the definitions: the command modules load when one runs. */
export function registerA2aCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  void program;
  void io;
  void finish;
}
