import type { Command } from 'commander';
import type { Io } from '../io.js';

/** baton stats (the seed's alert thresholds over recent runs) and baton bundle show|diff (issue 16 items 1-2). Only the definitions: the command modules load when one runs. */
export function registerOpsCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  void program;
  void io;
  void finish;
}
