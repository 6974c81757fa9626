// Starts `baton view` (the built CLI) on a fresh state directory and drives it with Debian's Chromium.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..', '..');
export const consoleRoot = resolve(here, '..');
export const cliBin = join(repoRoot, 'packages', 'cli', 'dist', 'bin.js');
export const approvalTeamModule = join(repoRoot, 'examples', 'dist', 'with-approval', 'team.js');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's chromium (BATON_CHROMIUM overrides); a clear failure when it is missing, never a silent skip. */
export function chromiumPath(): string {
  const candidates = [
    process.env.BATON_CHROMIUM,
    which('chromium'),
    '/usr/bin/chromium',
    which('chromium-browser'),
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  throw new Error(
    "Chromium is missing: the console's browser tests need Debian's `chromium` package (`apt-get install chromium`; .ci/run installs it) or BATON_CHROMIUM=/path/to/chromium",
  );
}

function which(name: string): string | undefined {
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Builds the front-end from its sources into dist/ui (what `npm run build:ui` does), so the test sees the current pages. */
export function buildUi(): void {
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  // NODE_ENV is `test` under vitest, which would make a debug build: test what ships.
  execFileSync(process.execPath, [vite, 'build'], {
    cwd: consoleRoot,
    stdio: 'pipe',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

export function requireBuiltCli(): void {
  for (const file of [cliBin, approvalTeamModule]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -b)`);
  }
}

export interface ViewProcess {
  url: string;
  cwd: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** `baton view --port 0` in a fresh directory, with the approval example's team on the start page. */
export async function startView(extraEnv: Record<string, string> = {}): Promise<ViewProcess> {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-view-'));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // The offline model: no provider variables reach the runs.
    if (value !== undefined && !/^(OPENAI|ANTHROPIC|BATON_MODEL|OTEL_)/.test(key)) env[key] = value;
  }
  const child = spawn(
    process.execPath,
    [
      cliBin,
      'view',
      '--port',
      '0',
      '--dir',
      join(cwd, '.baton'),
      '--team',
      approvalTeamModule,
      '--evals',
      join(cwd, 'results'),
    ],
    {
      cwd,
      env: { ...env, BATON_OPS_EFFECTS: join(cwd, 'effects.log'), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`baton view did not start in 60 s: ${stderr}`)), 60_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Baton console: (http:\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`baton view exited (${code}): ${stderr}`));
    });
  });
  return {
    url,
    cwd,
    child,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
