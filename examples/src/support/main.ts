import { existsSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError } from '@baton/core';

/** True when the module at `moduleUrl` is the script node was started with (not imported). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(entry);
  } catch {
    return false;
  }
}

/**
 * Runs an example's `main()` when its module is executed directly (`node examples/dist/with-pipeline/main.js`):
 * starts tracing (trace files for `baton trace`, and OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set),
 * exits non-zero unless the team completed, and flushes the traces before the process ends.
 */
export function runExample(
  moduleUrl: string,
  name: string,
  main: () => Promise<{ status: string } | undefined>,
): void {
  if (!isMain(moduleUrl)) return;
  void (async () => {
    const { startTracing } = await import('@baton/telemetry');
    const tracing = await startTracing({ serviceName: `baton-example-${name}` });
    try {
      const result = await main();
      process.exitCode = result === undefined || result.status === 'completed' ? 0 : 1;
    } catch (error) {
      const failure = BatonError.wrap(error);
      process.stderr.write(`${name} failed: ${failure.code}: ${failure.message}\n`);
      if (failure.hint) process.stderr.write(`hint: ${failure.hint}\n`);
      process.exitCode = 1;
    } finally {
      await tracing.shutdown();
    }
  })();
}

/** How to call the `baton` CLI from here: `npx baton` when it is linked, else the built script. */
export function batonCommand(cwd: string = process.cwd()): string {
  if (existsSync(join(cwd, 'node_modules', '.bin', 'baton'))) return 'npx baton';
  const script = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
  if (existsSync(script)) return `node ${relative(cwd, script) || script}`;
  return 'baton';
}

/** Where an example writes: stdout for the report, stderr for progress (both replaceable in tests). */
export interface ExampleOutput {
  /** The report and tables; default stdout. */
  out?: (text: string) => void;
  /** Progress lines; default stderr. */
  progress?: (line: string) => void;
}

export function writers(output: ExampleOutput): {
  out: (text: string) => void;
  progress: (line: string) => void;
} {
  return {
    out: output.out ?? ((text) => process.stdout.write(`${text}\n`)),
    progress: output.progress ?? ((line) => process.stderr.write(`${line}\n`)),
  };
}
