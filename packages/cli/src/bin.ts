#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT, formatCliError, toCliError } from './errors.js';
import { flushOutput, processIo } from './io.js';
import { createProgram } from './program.js';

let exitCode = 0;
const program = createProgram(processIo, (code) => {
  exitCode = code;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the problem (or the help / version) already.
    exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    const failure = toCliError(error);
    processIo.err(formatCliError(failure));
    exitCode = failure.exitCode;
  }
}
// Exit explicitly: a NATS client, a timer or an exporter left by a library must not keep the CLI alive.
await flushOutput();
process.exit(exitCode);
