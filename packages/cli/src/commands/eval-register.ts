import type { Command } from 'commander';
import type { Io } from '../io.js';

/** baton eval <suite>, baton eval add-case <runId> and baton ab (issue 16 items 3-4). Only the definitions: the command modules load when one runs. */
export function registerEvalCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  void program;
  void io;
  void finish;
}
