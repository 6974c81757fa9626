import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerA2aCommands } from './commands/a2a-register.js';
import { registerApprovalsCommands } from './commands/approvals-register.js';
import { registerEvalCommands } from './commands/eval-register.js';
import { registerHousekeepingCommands } from './commands/housekeeping-register.js';
import { registerInspectCommands } from './commands/inspect-register.js';
import { registerIntegrationCommands } from './commands/integration-register.js';
import { registerMemoryCommands } from './commands/memory-register.js';
import { registerOpsCommands } from './commands/ops-register.js';
import { registerRolloutCommands } from './commands/rollout-register.js';
import { registerRunCommands } from './commands/run-register.js';
import { registerServingCommands } from './commands/serving-register.js';
import { registerViewCommands } from './commands/view-register.js';
import type { Io } from './io.js';
import { addNatsLogin } from './nats-flags.js';

/** What a command resolves to: the process exit code. */
type Action = Promise<number>;

/**
 * The `baton` command line. Each command's module is loaded only when it runs, so `baton --help` and
 * `baton trace` start fast and only `run` and `worker` load the agents and the OpenTelemetry SDK.
 */
export function createProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('baton')
    .description('Run teams of AI agents: locally, or across processes over NATS.')
    .version(cliVersion())
    .showHelpAfterError()
    // Usage errors throw (exit code 2 in bin.ts) instead of exiting from inside commander.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });

  const finish = async (action: Action) => done(await action);

  registerRunCommands(program, io, finish);
  registerApprovalsCommands(program, io, finish);
  registerServingCommands(program, io, finish);
  registerInspectCommands(program, io, finish);
  registerIntegrationCommands(program, io, finish);
  registerMemoryCommands(program, io, finish);
  registerHousekeepingCommands(program, io, finish);
  registerA2aCommands(program, io, finish);
  registerViewCommands(program, io, finish);
  registerRolloutCommands(program, io, finish);
  registerEvalCommands(program, io, finish);
  registerOpsCommands(program, io, finish);
  addNatsLogin(program, new Set(['serve']));

  return program;
}

/** The version of the installed @baton/cli (dist/program.js and src/program.ts sit one level under it). */
function cliVersion(): string {
  const manifest = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
