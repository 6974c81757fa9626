import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isProcessAlive, type NatsServer, startNatsServer } from '@baton/bus/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/distributed/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the example as its own process, from source, in `cwd` (where its trace files go). */
function startExample(
  cwd: string,
  env: Record<string, string | undefined>,
): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, ['--conditions=@baton/source', '--import', TSX, MAIN], {
    cwd,
    env: { ...process.env, NATS_URL: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<Exit>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exit };
}

/** Every pid the example reported starting (nats-server and workers). */
function startedPids(stderr: string): { nats: number[]; workers: Record<string, number> } {
  const nats = [...stderr.matchAll(/nats-server pid (\d+)/g)].map((m) => Number(m[1]));
  const workers = Object.fromEntries(
    [...stderr.matchAll(/worker (\w+) pid (\d+)/g)].map((m) => [m[1], Number(m[2])]),
  );
  return { nats, workers };
}

describe('examples/distributed', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({ readyTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await nats?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const workdir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-distributed-'));
    dirs.push(dir);
    return dir;
  };

  it('starts its own nats-server and three workers, runs the team across them, and stops every process', async () => {
    const cwd = workdir();
    const { child, exit } = startExample(cwd, {});
    children.push(child);
    const { code, stdout, stderr } = await exit;
    expect(code, stderr).toBe(0);

    const pids = startedPids(stderr);
    expect(pids.nats).toHaveLength(1);
    expect(Object.keys(pids.workers).sort()).toEqual(['researcher', 'reviewer', 'writer']);
    // Nothing it started outlives it.
    for (const pid of [...pids.nats, ...Object.values(pids.workers)])
      expect(isProcessAlive(pid), `pid ${pid} is gone`).toBe(false);
    expect(stderr).toContain('[distributed] every process it started has stopped');

    // Progress from the remote runs reached this process, and the report came back.
    expect(stderr).toMatch(/\[researcher\] search_corpus\(/);
    expect(stdout).toMatch(/Citations: \d+, all resolve to corpus documents/);
    expect(stdout).toMatch(/^reviewer +completed +2 /m);
    const traceId = /Trace: ([0-9a-f]{32})/.exec(stdout)?.[1] as string;
    expect(traceId).toBeDefined();

    // One trace, written by four processes: the team's and each worker's.
    const files = readdirSync(join(cwd, '.baton', 'traces')).filter((file) => file.startsWith(traceId));
    const writers = new Set(files.map((file) => Number(file.split('.')[1])));
    expect(writers).toEqual(new Set([child.pid, ...Object.values(pids.workers)]));
  });

  it('with NATS_URL it uses that server, and Ctrl-C while it starts still stops every worker', async () => {
    const cwd = workdir();
    const { child, exit } = startExample(cwd, { NATS_URL: nats.url });
    children.push(child);
    // Interrupt as soon as the last worker has been spawned, before the team has run (failing at once if
    // the example exits first).
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stderr?.on('data', (chunk: Buffer | string) => {
        seen += String(chunk);
        if (seen.includes('worker reviewer pid')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`the example exited (${code}) before its workers: ${seen}`)),
      );
    });
    child.kill('SIGINT');
    const { code, stderr } = await exit;
    expect(code).not.toBe(0);
    expect(stderr).toContain('SIGINT: stopping the team and every process it started');
    const pids = startedPids(stderr);
    expect(pids.nats).toEqual([]);
    expect(Object.keys(pids.workers)).toHaveLength(3);
    for (const pid of Object.values(pids.workers))
      expect(isProcessAlive(pid), `worker pid ${pid} is gone`).toBe(false);
    // The server it was given is left running.
    expect(isProcessAlive(nats.pid)).toBe(true);
  });
});
