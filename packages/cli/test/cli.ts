/** Runs the `baton` CLI as a child process: the build, or its TypeScript source (see FROM_SOURCE). */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';

export const BIN_SOURCE = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
export const BIN_BUILT = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/**
 * The built CLI (`npm test` builds before it runs the suite) starts in a fraction of the time Node + tsx
 * take to compile the sources, and the suite starts hundreds of CLI processes. BATON_TEST_CLI=source runs
 * the sources instead, with no build, while working on the CLI; so does a checkout that was never built.
 */
const FROM_SOURCE = process.env.BATON_TEST_CLI === 'source' || !existsSync(BIN_BUILT);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Run the sources with tsx (a team module that imports them needs it); `.ts` arguments imply it. */
  source?: boolean;
  /** Kill it (and fail) after this long; default 60 s (a loaded machine starts Node and tsx slowly). */
  timeoutMs?: number;
}

/** No provider keys from the machine running the tests: the CLI must run offline. */
const OFFLINE = {
  OPENAI_API_KEY: undefined,
  ANTHROPIC_API_KEY: undefined,
  OPENAI_BASE_URL: undefined,
  BATON_MODEL: undefined,
};

/** Every CLI process a test file started and that has not exited yet. */
const running = new Set<ChildProcess>();
// A test that fails half-way must not leave a worker behind, retrying a NATS server that is long gone.
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

function fromSource(args: readonly string[], options: CliOptions): boolean {
  return FROM_SOURCE || options.source === true || args.some((arg) => /\.[cm]?ts$/.test(arg));
}

export function startCli(args: readonly string[], options: CliOptions): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...OFFLINE, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(
    process.execPath,
    fromSource(args, options)
      ? ['--conditions=@baton/source', '--import', TSX, BIN_SOURCE, ...args]
      : [BIN_BUILT, ...args],
    {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const started = performance.now();
  const child = startCli(args, options);
  return collect(child, options.timeoutMs ?? 60_000).then((result) => ({
    ...result,
    ms: performance.now() - started,
  }));
}

export function collect(child: ChildProcess, timeoutMs: number): Promise<Omit<CliResult, 'ms'>> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`baton did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Resolves once the process has written a line matching `pattern` on stderr; rejects at once if it exits
 * first. The default limit is generous: starting Node and tsx takes seconds on a loaded machine.
 */
export function waitForStderr(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms: ${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer | string) => {
      seen += String(chunk);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve(seen);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited before ${pattern}: ${seen}`));
    });
  });
}
