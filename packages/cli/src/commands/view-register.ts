import type { Command } from 'commander';
import type { Io } from '../io.js';

/** baton view, the web console (issue 17). Only the definitions: the command modules load when one runs. */
export function registerViewCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  void program;
  void io;
  void finish;
}
