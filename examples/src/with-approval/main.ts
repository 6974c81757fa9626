/**
 * A destructive tool, a person's approval from the CLI, and a resume in another process — with the
 * destructive tool running exactly once:
 *
 *   1. the operations team runs, journaled to files: the auditor finds stale sessions, the operator
 *      wants to delete them — a destructive call, so the run pauses and the call waits as a record;
 *   2. a person approves it from the CLI, in another process (`baton approvals approve …`);
 *   3. the run resumes in yet another process (resume.ts), from its journal: the deletion runs once;
 *   4. resuming the same run again returns its recorded result and runs nothing.
 *
 * Every deletion is a line in a side-channel file, so you can count them. Runs offline, no API key.
 *
 *   npm run example:approval                 # state in a temporary directory, removed at the end
 *   node examples/dist/with-approval/main.js ./ops-state   # keeps the journal and approvals there
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BatonError, EventHub, fileApprovals, fileJournal } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import { printTeamProgress, type TeamRunEvent } from '@baton/teams';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';
import type { ResumeReport } from './resume.js';
import { operationsTeam, readDeletions } from './team.js';

export interface ApprovalExampleOptions extends ExampleOutput {
  /** Where the journal, the approvals and the side channel go; default a temporary directory, removed after. */
  dir?: string;
  /** The task; default: delete the sessions nobody used for 90 days. */
  task?: string;
  /** Who approves (the CLI's `--by`). */
  approver?: string;
}

export interface ApprovalExampleRun {
  status: string;
  runId: string;
  dir: string;
  /** The first run, paused for approval. */
  paused: TeamResult<string>;
  /** The member run and call the person approved. */
  call: { runId: string; toolCallId: string; tool: string; args: unknown };
  /** What the CLI printed when the person approved. */
  approval: string;
  resumed: ResumeReport;
  resumedAgain: ResumeReport;
  /** Lines in the side channel after each step: after the pause, the resume, and the second resume. */
  deletions: { paused: number; resumed: number; resumedAgain: number };
}

const DEFAULT_TASK = 'Delete the sessions nobody has used for more than 90 days';
const fromSource = import.meta.url.endsWith('.ts');

export async function main(options: ApprovalExampleOptions = {}): Promise<ApprovalExampleRun> {
  const { out, progress } = writers(options);
  const temporary = options.dir === undefined;
  const dir = resolve(options.dir ?? mkdtempSync(join(tmpdir(), 'baton-approval-')));
  mkdirSync(dir, { recursive: true });
  const effects = join(dir, 'effects.log');
  const journal = fileJournal({ dir: join(dir, 'journal') });
  const approvals = fileApprovals({ dir: join(dir, 'approvals') });
  const runId = `ops-${Date.now().toString(36)}`;
  const count = () => readDeletions(effects).length;
  try {
    out(`Operations team, journaled in ${dir} (run ${runId})`);
    out('');

    // 1. Run the team, journaled, with an approval store: the destructive call pauses it.
    out('1. The team runs: the auditor finds stale records, the operator wants to delete them.');
    const events = new EventHub<TeamRunEvent>();
    const stopProgress = printTeamProgress(events, { write: progress });
    const team = operationsTeam({ effectsFile: effects });
    const paused = await team.run(options.task ?? DEFAULT_TASK, { runId, journal, approvals, events });
    stopProgress();
    out(`   → ${paused.status}: ${paused.stopReason.message}`);
    const pending = paused.pending?.[0];
    if (paused.status !== 'awaiting_approval' || !pending) {
      throw new BatonError('INTERNAL', `Expected the run to wait for approval, it ended ${paused.status}`);
    }
    const record = await approvals.get(pending.runId, pending.toolCallId);
    out(`   [${pending.member}] ${pending.tool} ${JSON.stringify(pending.args)}`);
    if (record?.preview !== undefined) out(`   preview: ${String(record.preview)}`);
    out(
      `   approval record: run ${pending.runId}, call ${pending.toolCallId}, risk ${record?.risk ?? '?'}, status ${record?.status ?? '?'}`,
    );
    const afterPause = count();
    out(`   deletions so far: ${afterPause}`);
    out('');

    // 2. A person approves the call from the CLI — another process, as they would from their shell.
    out('2. A person approves it from the CLI, in another process:');
    const approvalsDir = join(dir, 'approvals');
    const approveArgs = [
      'approvals',
      'approve',
      pending.runId,
      pending.toolCallId,
      '--dir',
      approvalsDir,
      '--by',
      options.approver ?? 'ops-lead@example.com',
    ];
    out(`   $ ${batonCommand()} ${approveArgs.map(shellWord).join(' ')}`);
    const approved = await runProcess(cliBin(), approveArgs, progress);
    if (approved.code !== 0) {
      throw new BatonError(
        'INTERNAL',
        `baton approvals approve failed (${approved.code}): ${approved.stderr}`,
      );
    }
    for (const line of lines(approved.stdout)) out(`   ${line}`);
    out('');

    // 3. The run resumes in another process, from the journal: the approved deletion runs, once.
    const script = resumeScript();
    out('3. The run resumes in another process, from its journal:');
    out(`   $ node ${relative(process.cwd(), script) || script} ${dir} ${runId}`);
    const resumed = await resumeElsewhere(script, dir, runId, progress);
    out(`   → ${resumed.status} (pid ${resumed.pid}): ${String(resumed.output)}`);
    const afterResume = count();
    out(`   deletions so far: ${afterResume} — the destructive tool ran exactly once`);
    out('');

    // 4. Resuming the same run again: the recorded result; nothing runs.
    out('4. The same run resumed once more, in yet another process (the same command):');
    const again = await resumeElsewhere(script, dir, runId, progress);
    out(
      `   → ${again.status} (pid ${again.pid})${again.finishedBefore ? ', the recorded result' : ''}: ${String(again.output)}`,
    );
    const afterAgain = count();
    out(`   deletions so far: ${afterAgain} — nothing ran again`);
    if (!temporary) {
      out('');
      out(`The journal and approvals are in ${dir}:`);
      out(`   ${batonCommand()} approvals list --status all --dir ${shellWord(approvalsDir)}`);
      out(`   ${batonCommand()} resume ${runId} --dir ${shellWord(dir)} --team ${shellWord(teamModule())}`);
    }
    return {
      status: again.status,
      runId,
      dir,
      paused,
      call: { runId: pending.runId, toolCallId: pending.toolCallId, tool: pending.tool, args: pending.args },
      approval: approved.stdout,
      resumed,
      resumedAgain: again,
      deletions: { paused: afterPause, resumed: afterResume, resumedAgain: afterAgain },
    };
  } finally {
    if (temporary) rmSync(dir, { recursive: true, force: true });
  }
}

async function resumeElsewhere(
  script: string,
  dir: string,
  runId: string,
  progress: (line: string) => void,
): Promise<ResumeReport> {
  const done = await runProcess(script, [dir, runId], progress);
  const last = lines(done.stdout).at(-1);
  if (!last)
    throw new BatonError('INTERNAL', `The resume process printed nothing (${done.code}): ${done.stderr}`);
  return JSON.parse(last) as ResumeReport;
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script of this repository in its own Node process (under tsx when running from source). */
function runProcess(
  script: string,
  args: readonly string[],
  progress: (line: string) => void,
): Promise<Finished> {
  const tsx = () => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const node = fromSource ? ['--conditions=@baton/source', '--import', tsx(), script] : [script];
  const child: ChildProcess = spawn(process.execPath, [...node, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const line of lines(chunk)) progress(`   [pid ${child.pid}] ${line}`);
  });
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** The `baton` CLI of this repository: its source under tsx, or its build. */
function cliBin(): string {
  const bin = fileURLToPath(
    new URL(`../../../packages/cli/${fromSource ? 'src/bin.ts' : 'dist/bin.js'}`, import.meta.url),
  );
  if (!existsSync(bin)) {
    throw new BatonError('CONFIG_INVALID', `The baton CLI is not at ${bin}`, {
      hint: 'Build it: npm run build',
    });
  }
  return bin;
}

function resumeScript(): string {
  return fileURLToPath(new URL(fromSource ? './resume.ts' : './resume.js', import.meta.url));
}

function teamModule(): string {
  const module = fileURLToPath(new URL(fromSource ? './team.ts' : './team.js', import.meta.url));
  return relative(process.cwd(), module) || module;
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

runExample(import.meta.url, 'with-approval', () => main(process.argv[2] ? { dir: process.argv[2] } : {}));
