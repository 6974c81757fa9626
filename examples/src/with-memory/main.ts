/**
 * Long-term memory across sessions, each session in a process of its own, on a file store:
 *
 *   1. session 1: the user says they are vegetarian, prefer metric units, and gives their email; the
 *      assistant saves these with save_memory — the email redacted by piiGuard before it is stored;
 *   2. session 2, a new process: the run puts the remembered preferences, the recap of session 1 and
 *      its episode into the model's context; the answer is vegetarian, in grams, and not last time's dish;
 *   3. `baton memory list` shows what is stored, `baton memory forget` erases the user;
 *   4. session 3, a new process: no memory at all — the answer is back to the defaults.
 *
 * The model is rule-based (not an LLM). Every claim is checked against a side channel: the store's file
 * read directly (not through the store), and the requests the model received, logged by the session
 * processes. Runs offline, no API key.
 *
 *   npm run example:memory
 *   node examples/dist/with-memory/main.js ./memory-state     # keeps the store and the request log there
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MEMORY_FILE, unwrapUntrusted } from '@baton/core';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';
import type { LoggedRequest } from './assistant.js';
import { baton, lines, sessionElsewhere, shellWord } from './processes.js';
import { type SessionReport, WHO } from './session.js';

export const MESSAGES = {
  first:
    "Please remember that I'm vegetarian and that I prefer metric units. " +
    'Send shopping lists to ada.lovelace@example.com. What should I cook tonight?',
  later: 'What should I cook tonight? Something different from last time, please.',
} as const;
const EMAIL = 'ada.lovelace@example.com';

/** A record as the store's file holds it, read with plain JSON. */
export interface StoredRecord {
  namespace: { tenant: string; user?: string; scope: string };
  key: string;
  value: string;
  kind: string;
  version: number;
  provenance: { source: string; trusted: boolean; runId?: string; sessionId?: string };
}

export interface MemoryExampleRun {
  /** `completed` when every claim held. */
  status: 'completed' | 'failed';
  dir: string;
  sessions: { one: SessionReport; two: SessionReport; three: SessionReport };
  /** What `baton memory list` and `baton memory forget` printed. */
  cli: { list: string; forget: string };
  /** The user's records in the store's file after each step. */
  onDisk: { afterOne: StoredRecord[]; afterTwo: StoredRecord[]; afterForget: StoredRecord[] };
  claims: { claim: string; held: boolean }[];
}

export interface MemoryExampleOptions extends ExampleOutput {
  /** Where the store and the request log go; default a temporary directory, removed after. */
  dir?: string;
}

export async function main(options: MemoryExampleOptions = {}): Promise<MemoryExampleRun> {
  const { out, progress } = writers(options);
  const temporary = options.dir === undefined;
  const dir = resolve(options.dir ?? mkdtempSync(join(tmpdir(), 'baton-memory-')));
  const storeDir = join(dir, 'memory');
  const requestLog = join(dir, 'model-requests.jsonl');
  mkdirSync(dir, { recursive: true });
  rmSync(storeDir, { recursive: true, force: true });
  rmSync(requestLog, { force: true });
  const who = ['--tenant', WHO.tenant, '--user', WHO.user];
  const cliDir = ['--dir', storeDir];
  try {
    out('A sous-chef that remembers — offline, no API key. The model is rule-based (not an LLM).');
    out(`Memory in ${storeDir} (fileMemoryStore), for user ${WHO.user} of tenant ${WHO.tenant}.`);
    out('');

    out(`1. Session 1 (a new process): "${MESSAGES.first}"`);
    const one = await sessionElsewhere(dir, 's1', MESSAGES.first, progress);
    describeSession(one, out);
    const afterOne = userRecords(storeDir);
    out(`   on disk: ${afterOne.map((record) => `${record.key} (${record.kind})`).join(', ')}`);
    const contact = afterOne.find((record) => record.key === 'contact');
    out(`   the contact as stored: "${contact?.value ?? '?'}"`);
    out('');

    out(`2. Session 2 (another new process): "${MESSAGES.later}"`);
    const two = await sessionElsewhere(dir, 's2', MESSAGES.later, progress);
    describeSession(two, out);
    const read = memoryBlock(readRequests(requestLog).find((request) => request.session === 's2')?.system);
    out(`   what its model read in the system prompt (logged by that process):`);
    for (const entry of read) {
      // An episode is long: its answer is the part this model uses ("not last time's dish").
      const answer = entry.kind === 'episode' ? /^Answer: (.*)$/m.exec(entry.value)?.[1] : undefined;
      const shown = answer === undefined ? entry.value : `… Answer: ${answer}`;
      out(`     ${entry.kind.padEnd(7)} ${entry.key}: ${clip(shown, 80)}`);
    }
    const afterTwo = userRecords(storeDir);
    out('');

    out('3. What is stored, and forgetting it, from the CLI (another process each):');
    const listArgs = ['memory', 'list', ...who, ...cliDir];
    out(`   $ ${batonCommand()} ${listArgs.map(shellWord).join(' ')}`);
    const list = await baton(listArgs, progress);
    for (const line of lines(list).filter((line) => !line.startsWith('Show one:'))) out(`   ${line}`);
    const forgetArgs = ['memory', 'forget', ...who, ...cliDir];
    out(`   $ ${batonCommand()} ${forgetArgs.map(shellWord).join(' ')}`);
    const forget = await baton(forgetArgs, progress);
    for (const line of lines(forget)) out(`   ${line}`);
    const afterForget = userRecords(storeDir);
    const storeAfterForget = everyFile(storeDir);
    out(`   on disk: ${afterForget.length} records of ${WHO.user}`);
    out('');

    out(`4. Session 3 (a new process), the same question: "${MESSAGES.later}"`);
    const three = await sessionElsewhere(dir, 's3', MESSAGES.later, progress);
    describeSession(three, out);
    out('');

    const claims = checkClaims({
      sessions: { one, two, three },
      onDisk: { afterOne, afterTwo, afterForget },
      requests: readRequests(requestLog),
      list,
      forget,
      storeAfterForget,
    });
    out('Checked against the side channels (the store’s file, the requests the model received):');
    for (const { claim, held } of claims) out(`   ${held ? 'ok  ' : 'FAIL'} ${claim}`);
    if (!temporary) {
      out('');
      out(`The store is in ${storeDir}; the model's requests in ${requestLog}:`);
      out(
        `   ${batonCommand()} memory list --user ${WHO.user} --tenant ${WHO.tenant} --dir ${shellWord(storeDir)}`,
      );
    }
    return {
      status: claims.every((entry) => entry.held) ? 'completed' : 'failed',
      dir,
      sessions: { one, two, three },
      cli: { list, forget },
      onDisk: { afterOne, afterTwo, afterForget },
      claims,
    };
  } finally {
    if (temporary) rmSync(dir, { recursive: true, force: true });
  }
}

function describeSession(report: SessionReport, out: (text: string) => void): void {
  const recalled = report.recalled
    ? `${report.recalled.count} memories put into the model's context (${count(report.recalled.kinds)})`
    : 'no memory in the model’s context';
  out(`   pid ${report.pid}, run ${report.runId}: ${recalled}`);
  for (const saved of report.saved) {
    out(
      `   saved ${saved.kind} ${saved.key} (via ${saved.via}${saved.rewritten ? ', redacted by piiGuard' : ''})`,
    );
  }
  if (report.failed.length > 0) out(`   memory failures: ${report.failed.join(', ')}`);
  out(`   → ${report.status}: ${String(report.output)}`);
}

/** The records of the memory block of a system prompt, as the model received them. */
function memoryBlock(system: string | undefined): { kind: string; key: string; value: string }[] {
  const block = system === undefined ? undefined : unwrapUntrusted(system);
  if (block?.source !== 'memory' || !Array.isArray(block.value)) return [];
  return block.value as { kind: string; key: string; value: string }[];
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `3 fact, 1 summary, 1 episode`. */
function count(kinds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
}

/** The user's current records, read from the store's file with plain JSON — not through the store. */
function userRecords(storeDir: string): StoredRecord[] {
  const file = join(storeDir, MEMORY_FILE);
  if (!existsSync(file)) return [];
  // The file: a header line (format, checksum), then the data line.
  const data = JSON.parse(readFileSync(file, 'utf8').split('\n')[1] ?? '{}') as {
    entries?: { current: StoredRecord }[];
  };
  return (data.entries ?? [])
    .map((entry) => entry.current)
    .filter((record) => record.namespace.tenant === WHO.tenant && record.namespace.user === WHO.user);
}

/** Every byte of every file in the store's directory, as text: what "nowhere" is checked against. */
function everyFile(storeDir: string): string {
  return readdirSync(storeDir)
    .map((name) => readFileSync(join(storeDir, name), 'utf8'))
    .join('\n');
}

function readRequests(file: string): LoggedRequest[] {
  if (!existsSync(file)) return [];
  return lines(readFileSync(file, 'utf8')).map((line) => JSON.parse(line) as LoggedRequest);
}

interface Evidence {
  sessions: MemoryExampleRun['sessions'];
  onDisk: MemoryExampleRun['onDisk'];
  requests: LoggedRequest[];
  list: string;
  forget: string;
  /** Every file of the store's directory right after the forget, as text. */
  storeAfterForget: string;
}

/** Each claim of the example, checked against something other than what the agent said. */
function checkClaims(evidence: Evidence): { claim: string; held: boolean }[] {
  const { sessions, onDisk, requests, list, forget } = evidence;
  const { one, two, three } = sessions;
  const seen = (session: string) => requests.filter((request) => request.session === session);
  const firstSystem = (session: string) => seen(session)[0]?.system ?? '';
  const fact = (key: string) =>
    onDisk.afterOne.find((record) => record.key === key && record.kind === 'fact');
  const pids = new Set([process.pid, one.pid, two.pid, three.pid]);
  const memoryOf = (system: string) => system.slice(system.indexOf('Memory from earlier sessions'));
  const twoMemory = firstSystem('s2').includes('Memory from earlier sessions')
    ? memoryOf(firstSystem('s2'))
    : '';
  const forgotten = Number(/Forgot (\d+) records?/.exec(forget)?.[1] ?? -1);
  return [
    {
      claim:
        'session 1 saved the diet and the units as facts in the file, marked untrusted, written by the agent in s1',
      held: ['diet', 'units'].every((key) => {
        const record = fact(key);
        return (
          record?.provenance.source === 'agent' &&
          record.provenance.trusted === false &&
          record.provenance.sessionId === 's1'
        );
      }),
    },
    {
      claim: 'the email never reached the store: piiGuard redacted the fact, the episode and the recap',
      held:
        [...onDisk.afterOne, ...onDisk.afterTwo].every((record) => !record.value.includes(EMAIL)) &&
        fact('contact')?.value === 'Send shopping lists to [EMAIL]' &&
        one.saved
          .filter((saved) => saved.rewritten)
          .map((saved) => `${saved.via}:${saved.key}`)
          .join() === `tool:contact,episode:episode:${one.runId},summary:summary:s1`,
    },
    {
      claim: 'each session ran in a process of its own',
      held: pids.size === 4 && ['s1', 's2', 's3'].every((s) => seen(s).every((r) => pids.has(r.pid))),
    },
    {
      claim: "session 2's model was given the preferences, session 1's recap and its episode, from disk",
      held:
        twoMemory.includes('The user is vegetarian') &&
        twoMemory.includes('The user prefers metric units') &&
        twoMemory.includes('summary:s1') &&
        twoMemory.includes(`episode:${one.runId}`) &&
        two.recalled?.kinds.includes('episode') === true,
    },
    {
      claim: "session 2's answer follows them: vegetarian, in grams, not last time's dish",
      held:
        String(one.output).includes('mushroom risotto') &&
        String(two.output).includes('Last time I suggested mushroom risotto') &&
        String(two.output).includes('chickpea curry') &&
        / \d+ g /.test(String(two.output)),
    },
    {
      claim: '`baton memory list` listed every key the file held',
      held: onDisk.afterTwo.every((record) => list.includes(record.key)),
    },
    {
      claim: '`baton memory forget` erased every record of the user: none in the file, "vegetarian" nowhere',
      held:
        forgotten === onDisk.afterTwo.length &&
        onDisk.afterForget.length === 0 &&
        !evidence.storeAfterForget.includes('vegetarian') &&
        !evidence.storeAfterForget.includes('metric units'),
    },
    {
      claim: "session 3's model was given no memory, and its answer is back to the defaults",
      held:
        seen('s3').length > 0 &&
        seen('s3').every((request) => !request.system.includes('Memory from earlier sessions')) &&
        seen('s3').every((request) => !/vegetarian|metric/i.test(request.system)) &&
        three.recalled === undefined &&
        String(three.output).includes('chicken stir-fry') &&
        String(three.output).includes('lb'),
    },
  ];
}

runExample(import.meta.url, 'with-memory', () => main(process.argv[2] ? { dir: process.argv[2] } : {}));
