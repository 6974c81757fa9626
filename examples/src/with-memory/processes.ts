/** Starting the sessions and the `baton` CLI in processes of their own, from source (tsx) or the build. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BatonError } from '@baton/core';
import type { SessionReport } from './session.js';

const fromSource = import.meta.url.endsWith('.ts');

export interface Finished {
  pid: number | undefined;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script of this repository in its own Node process (under tsx when running from source). */
export function runScript(
  script: string,
  args: readonly string[],
  progress: (line: string) => void,
): Promise<Finished> {
  const tsx = () => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const node = fromSource ? ['--conditions=@baton/source', '--import', tsx(), script] : [script];
  // No NATS_URL: `baton memory` must use the directory it is given, whatever the environment says.
  const env = { ...process.env };
  delete env.NATS_URL;
  const child = spawn(process.execPath, [...node, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const line of lines(chunk)) progress(`   [pid ${child.pid}] ${line}`);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ pid: child.pid, code, stdout, stderr }));
  });
}

/** One session in a new process: its report, or an error saying why there is none. */
export async function sessionElsewhere(
  dir: string,
  session: string,
  message: string,
  progress: (line: string) => void,
): Promise<SessionReport> {
  const script = fileURLToPath(new URL(fromSource ? './session.ts' : './session.js', import.meta.url));
  const done = await runScript(script, [dir, session, message], progress);
  const last = lines(done.stdout).at(-1);
  if (done.code !== 0 || !last) {
    throw new BatonError('INTERNAL', `Session ${session} failed (exit ${done.code}): ${done.stderr.trim()}`);
  }
  return JSON.parse(last) as SessionReport;
}

/** The `baton` CLI of this repository, in a new process; a non-zero exit is an error. */
export async function baton(args: readonly string[], progress: (line: string) => void): Promise<string> {
  const bin = fileURLToPath(
    new URL(`../../../packages/cli/${fromSource ? 'src/bin.ts' : 'dist/bin.js'}`, import.meta.url),
  );
  if (!existsSync(bin)) {
    throw new BatonError('CONFIG_INVALID', `The baton CLI is not at ${bin}`, {
      hint: 'Build it: npm run build',
    });
  }
  const done = await runScript(bin, args, progress);
  if (done.code !== 0) {
    throw new BatonError(
      'INTERNAL',
      `baton ${args.slice(0, 2).join(' ')} failed (${done.code}): ${done.stderr}`,
    );
  }
  return done.stdout;
}

export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
