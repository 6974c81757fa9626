/**
 * One measuring process: `node --expose-gc child.js <task-json> <out-file>`.
 * Each framework is measured in a fresh process of its own so they cannot disturb each other; the result
 * goes to a file (frameworks may log to stdout).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { measureHeap, measureSteps } from './harness.js';
import type { CreateWorkload, Probe } from './workload.js';

const taskSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('workload'),
    /** Absolute path of the adapter module (default export: CreateWorkload). */
    adapter: z.string(),
    warmupRuns: z.number().int().nonnegative(),
    warmupMs: z.number().nonnegative(),
    repetitions: z.number().int().positive(),
    runsPerRepetition: z.number().int().positive(),
    /** Also measure heap per in-flight run (once per framework: it does not depend on CPU contention). */
    heap: z.boolean(),
    concurrentRuns: z.number().int().positive(),
    arriveTimeoutMs: z.number().positive(),
  }),
  z.object({ kind: z.literal('bus'), module: z.string() }),
  z.object({ kind: z.literal('durable'), module: z.string() }),
  z.object({ kind: z.literal('memory'), module: z.string() }),
  z.object({ kind: z.literal('memoryRecall'), module: z.string() }),
  z.object({ kind: z.literal('server'), module: z.string() }),
  z.object({ kind: z.literal('planning'), module: z.string() }),
]);
export type ChildTask = z.infer<typeof taskSchema>;

async function main(): Promise<void> {
  const [taskJson, outFile] = process.argv.slice(2);
  if (!taskJson || !outFile) throw new Error('usage: child.js <task-json> <out-file>');
  const task = taskSchema.parse(JSON.parse(taskJson));
  const result =
    task.kind === 'workload'
      ? await measureWorkload(task)
      : await measureModule(task.module, MEASURE[task.kind]);
  writeFileSync(outFile, JSON.stringify(result));
}

async function measureWorkload(task: Extract<ChildTask, { kind: 'workload' }>): Promise<object> {
  const loaded: { default?: unknown } = await import(pathToFileURL(task.adapter).href);
  if (typeof loaded.default !== 'function') throw new Error(`${task.adapter} has no default export function`);
  const create = loaded.default as CreateWorkload;
  const probe: Probe = { hold: undefined, arrived: 0, modelCalls: 0, toolCalls: 0 };
  const workload = await create(probe);
  // Timing first: its thousands of runs leave the code fully compiled, so code-space growth from the JIT
  // does not land between the heap baseline and the in-flight measurement.
  const { repetitionsUs } = await measureSteps(workload, probe, task);
  const heap = task.heap ? await measureHeap(workload, probe, task) : undefined;
  return { framework: workload.framework, version: workload.version, repetitionsUs, heap };
}

/** The measuring function each benchmark module exports. */
const MEASURE = {
  bus: 'measureBus',
  durable: 'measureDurable',
  memory: 'measureMemory',
  memoryRecall: 'measureRecall',
  server: 'measureServer',
  planning: 'measurePlanning',
} as const;

/** Runs a benchmark module's measuring function (`measureBus`, `measureDurable`) and returns its figures. */
async function measureModule(modulePath: string, name: string): Promise<object> {
  const loaded: Record<string, unknown> = await import(pathToFileURL(modulePath).href);
  const measure = loaded[name];
  if (typeof measure !== 'function') throw new Error(`${modulePath} does not export ${name}()`);
  const figures: unknown = await (measure as () => unknown)();
  if (typeof figures !== 'object' || figures === null) throw new Error(`${name}() did not return an object`);
  return figures;
}

main().then(
  // Frameworks may leave timers or sockets behind; the measurement is done.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
