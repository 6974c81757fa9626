#!/usr/bin/env node
/**
 * `npm run test:loaded`: the README's test command while a busy loop spins on every core, to prove the
 * suite holds on a loaded machine (no timing assertion without a margin, no racing sleeps). Prints how
 * long it took and exits with the suite's code.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const cores = availableParallelism();
const loops = Array.from({ length: cores }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
const stopLoops = () => {
  for (const loop of loops) loop.kill('SIGKILL');
};
process.on('exit', stopLoops);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopLoops();
    process.exit(130);
  });
}

console.error(`test:loaded — ${cores} busy loop(s) running, one per core; now \`npm test\``);
const started = performance.now();
const suite = spawn('npm', ['test'], { stdio: 'inherit' });
suite.on('exit', (code, signal) => {
  stopLoops();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(
    `test:loaded — npm test ${code === 0 ? 'passed' : `failed (${signal ?? code})`} in ${seconds} s with every core busy`,
  );
  process.exit(code ?? 1);
});
