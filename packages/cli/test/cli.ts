/** Runs the `baton` CLI as a child process, from its TypeScript source (always current, no build needed). */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BIN_SOURCE = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
export const BIN_BUILT = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Kill it (and fail) after this long; default 30 s. */
  timeoutMs?: number;
}

/** No provider keys from the machine running the tests: the CLI must run offline. */
const OFFLINE = {
  OPENAI_API_KEY: undefined,
  ANTHROPIC_API_KEY: undefined,
  OPENAI_BASE_URL: undefined,
  BATON_MODEL: undefined,
};

export function startCli(args: readonly string[], options: CliOptions): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...OFFLINE, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return spawn(process.execPath, ['--conditions=@baton/source', '--import', TSX, BIN_SOURCE, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const started = performance.now();
  const child = startCli(args, options);
  return collect(child, options.timeoutMs ?? 30_000).then((result) => ({
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

/** Resolves once the process has written a line matching `pattern` on stderr. */
export function waitForStderr(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
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
