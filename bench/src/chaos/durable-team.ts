/**
 * The team of the `durable.teamResume` scenario, shared by the suite and its orchestrator processes: a
 * supervisor whose manager delegates to `a` and `b` at once, then to `c`, then answers; each worker sends
 * two "messages" through a tool with a real side effect. The side channel is a directory of files, one
 * per idempotency key: a performed effect appends a line to its key's file, so a key whose file has two
 * lines had its effect performed twice.
 *
 * The tool honours its key the way ToolContext documents it: when the framework says a call may already
 * have run (`possibleDuplicate`), it looks its key up and skips an effect already recorded. A call the
 * framework does not flag is trusted as new and performs its effect — so a recorded call run again, or
 * an interrupted one run again without the flag, shows up as an effect performed twice.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Agent, defineAgent, defineTool, type ModelRequest } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { supervisor, type Team } from '@baton/supervisor';
import { z } from 'zod';

export const WORKERS = ['a', 'b', 'c'] as const;
/** Effect-tool calls per worker, so per team run 3 × 2. */
export const SENDS_PER_WORKER = 2;
export const EFFECTS_PER_RUN = WORKERS.length * SENDS_PER_WORKER;
/** Every model turn reports 10 input and 5 output tokens (scriptedModel's default). */
const TOKENS_PER_TURN = 15;
/** What an undisturbed run's ledger holds: 3 manager turns, and 2 sends + 1 answer per worker. */
export const LEDGER_TOKENS_PER_RUN = (3 + WORKERS.length * (SENDS_PER_WORKER + 1)) * TOKENS_PER_TURN;
export const FINAL_ANSWER = 'all messages sent';

/** Where an orchestrator process takes its jobs (see durable-orchestrator.ts). */
export const jobSubject = (id: string) => `chaos.durable.go.${id}`;

export interface DurableTeamOptions {
  /** The side channel's directory. */
  dir: string;
  /** Each model turn takes this long (a model's latency). */
  modelDelayMs: number;
  /** The tool waits this long before its effect (the request on its way) and as long again after it. */
  toolDelayMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A key as a file name (ids carry `:` and `-`; base64url keeps them apart and safe). */
export function keyFile(key: string): string {
  return `${Buffer.from(key).toString('base64url')}.effect`;
}

const CALLS = 'calls.log';

function toolMessages(request: ModelRequest): number {
  return request.messages.filter((message) => message.role === 'tool').length;
}

function sendTool(options: DurableTeamOptions) {
  return defineTool({
    name: 'send_message',
    description: 'Sends a message to a customer (a side effect that must happen once).',
    input: z.object({ text: z.string() }),
    risk: 'write',
    // Its input comes from the manager (data, not instructions); sending is this worker's job regardless.
    safeAfterUntrusted: true,
    execute: async ({ text }, context) => {
      const file = join(options.dir, keyFile(context.idempotencyKey));
      const flag = context.possibleDuplicate ? 1 : 0;
      // A random part of the delay before the effect and the rest after it: a kill lands on either side.
      const before = Math.round(Math.random() * options.toolDelayMs);
      await sleep(before);
      if (context.possibleDuplicate && existsSync(file)) {
        appendFileSync(join(options.dir, CALLS), `skip ${context.idempotencyKey} ${flag} ${process.pid}\n`);
        return { sent: false, skipped: true, text };
      }
      appendFileSync(file, `${process.pid} ${Date.now()} ${text}\n`);
      appendFileSync(join(options.dir, CALLS), `effect ${context.idempotencyKey} ${flag} ${process.pid}\n`);
      await sleep(options.toolDelayMs - before);
      return { sent: true, skipped: false, text };
    },
  });
}

function worker(name: string, options: DurableTeamOptions): Agent<string, string> {
  return defineAgent({
    name,
    description: `Worker ${name}: sends messages`,
    instructions: 'Send the messages, then say so.',
    tools: [sendTool(options)],
    model: scriptedModel(
      (request) => {
        const sent = toolMessages(request);
        if (sent >= SENDS_PER_WORKER) return `${name} done`;
        // Ids unique within the member run and the same whenever this step is asked again.
        const id = `${name}-send-${sent + 1}`;
        return { toolCalls: [{ id, name: 'send_message', args: { text: `${name} message ${sent + 1}` } }] };
      },
      { delayMs: options.modelDelayMs, recordRequests: false },
    ),
  });
}

function manager(options: DurableTeamOptions): Agent<string, string> {
  const delegate = (to: string) => ({
    id: `delegate-${to}`,
    name: `delegate_to_${to}`,
    args: { task: 'send' },
  });
  return defineAgent({
    name: 'manager',
    description: 'delegates the sending',
    instructions: 'Delegate to a and b at once, then to c, then answer.',
    model: scriptedModel(
      (request) => {
        const results = toolMessages(request);
        if (results === 0) return { toolCalls: [delegate('a'), delegate('b')] };
        if (results === 2) return { toolCalls: [delegate('c')] };
        return FINAL_ANSWER;
      },
      { delayMs: options.modelDelayMs, recordRequests: false },
    ),
  });
}

export function durableTeam(options: DurableTeamOptions): Team<string, string> {
  return supervisor<string>({
    name: 'durable-chaos',
    manager: manager(options),
    workers: WORKERS.map((name) => worker(name, options)),
  });
}

export interface SideChannel {
  /** Lines per effect file: how many times each key's effect was performed. */
  effectsPerKey: Map<string, number>;
  /** Calls run again as possible duplicates and skipped because their key's effect was recorded. */
  skippedDuplicates: number;
  /** Calls flagged as possible duplicates whose effect had not happened yet (performed, once). */
  flaggedPerformed: number;
  /** Every performed effect, flagged or not (lines of the effect files). */
  performed: number;
}

export function readSideChannel(dir: string): SideChannel {
  const effectsPerKey = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.effect')) continue;
    const key = Buffer.from(name.slice(0, -'.effect'.length), 'base64url').toString();
    const lines = readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).length;
    effectsPerKey.set(key, lines);
  }
  let skippedDuplicates = 0;
  let flaggedPerformed = 0;
  const performed = [...effectsPerKey.values()].reduce((sum, count) => sum + count, 0);
  const log = existsSync(join(dir, CALLS)) ? readFileSync(join(dir, CALLS), 'utf8') : '';
  for (const line of log.split('\n')) {
    const [kind, , flag] = line.split(' ');
    if (kind === 'skip') skippedDuplicates++;
    else if (kind === 'effect' && flag === '1') flaggedPerformed++;
  }
  return { effectsPerKey, skippedDuplicates, flaggedPerformed, performed };
}
