/**
 * `npm run bench`: measures Baton, a bare floor loop and the peer frameworks on the same two-step agent
 * workload, each in its own `node --expose-gc` child, one after another (in rounds, see measure.ts); then
 * the bus figures and the durable (journal) figures; writes bench/results/latest.json and prints a table. The `guards`
 * target is Baton with every built-in guard on every stage (security.guardOverheadUs). See bench/README.md.
 *
 * Flags (for development; anything below the full protocol writes bench/results/partial.json):
 *   --quick            500 runs × 3 repetitions, 200 concurrent runs
 *   --only a,b         measure only these: baton, guards, floor, openaiAgents, langgraph, mastra, bus, durable,
 *                      memory, server, planning, metrics
 *   --runs N --reps N --concurrent N --warmup N --out FILE
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatDurable } from './durable/format.js';
import { describeGuards, guardBreakdown, guardOverhead, observeGuardChecks } from './guards.js';
import { measureTargets, type Target } from './measure.js';
import { formatMemory } from './memory/format.js';
import { formatRecall } from './memory/recall-format.js';
import { measureMemoryTarget, recordMemoryInLatest } from './memory/target.js';
import { formatMetrics, measureMetricsTarget, recordMetricsInLatest } from './metrics/target.js';
import { ensurePeersInstalled, installedPeerVersion, PEERS } from './peers.js';
import { formatPlanning, measurePlanningTarget, recordPlanningInLatest } from './planning/target.js';
import {
  compare,
  type Entry,
  formatTable,
  isFullProtocol,
  NOT_MEASURED,
  type PeerKey,
  type RunConfig,
} from './report.js';
import { formatServer, measureServerTarget } from './server/target.js';
import { runChild } from './spawn.js';

const HERE = new URL('.', import.meta.url);
const RESULTS = fileURLToPath(new URL('../results/', HERE));
const CHILD_TIME_LIMIT_MS = 10 * 60_000;
/** Written by the bus benchmark's author; measured when it exists (compiled to bench/dist/bus/index.js). */
const BUS_MODULE = fileURLToPath(new URL('./bus/index.js', HERE));
/** The durable benchmark (issue 11): journaled vs plain research team, journal append vs raw publish-ack. */
const DURABLE_MODULE = fileURLToPath(new URL('./durable/index.js', HERE));
const TARGETS = [
  'baton',
  'guards',
  'floor',
  'openaiAgents',
  'langgraph',
  'mastra',
  'bus',
  'durable',
  'memory',
  'server',
  'planning',
  'metrics',
] as const;
type TargetKey = (typeof TARGETS)[number];

// Every child gets the same environment: production mode, and no peer sends traces anywhere.
const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'production',
  LANGSMITH_TRACING: 'false',
  LANGCHAIN_TRACING_V2: 'false',
  OPENAI_AGENTS_DISABLE_TRACING: '1',
};

function readConfig(): { config: RunConfig; only: Set<TargetKey>; out: string | undefined } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      reps: { type: 'string' },
      concurrent: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const base: RunConfig = values.quick
    ? { warmupRuns: 200, warmupMs: 200, repetitions: 3, runsPerRepetition: 500, concurrentRuns: 200 }
    : { warmupRuns: 1_000, warmupMs: 2_000, repetitions: 3, runsPerRepetition: 5_000, concurrentRuns: 2_000 };
  const config: RunConfig = {
    warmupRuns: count(values.warmup, base.warmupRuns, 'warmup'),
    warmupMs: base.warmupMs,
    repetitions: count(values.reps, base.repetitions, 'reps'),
    runsPerRepetition: count(values.runs, base.runsPerRepetition, 'runs'),
    concurrentRuns: count(values.concurrent, base.concurrentRuns, 'concurrent'),
  };
  const only = new Set<TargetKey>(TARGETS);
  if (values.only !== undefined) {
    only.clear();
    for (const name of values.only.split(',').map((part) => part.trim())) {
      if (!(TARGETS as readonly string[]).includes(name)) {
        throw new Error(`--only: unknown target "${name}" (one of ${TARGETS.join(', ')})`);
      }
      only.add(name as TargetKey);
    }
  }
  return { config, only, out: values.out };
}

function count(raw: string | undefined, fallback: number, flag: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer`);
  return value;
}

async function measureBus(): Promise<Record<string, unknown>> {
  if (!existsSync(BUS_MODULE)) {
    return { error: 'not measured: bench/src/bus/index.ts (exporting measureBus()) does not exist yet' };
  }
  process.stdout.write('measuring bus ... ');
  const started = Date.now();
  const outcome = await runChild({ kind: 'bus', module: BUS_MODULE }, CHILD_TIME_LIMIT_MS, CHILD_ENV);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return outcome.ok ? outcome.result : { error: outcome.error };
}

async function measureDurable(): Promise<Record<string, unknown>> {
  process.stdout.write('measuring durable ... ');
  const started = Date.now();
  const outcome = await runChild({ kind: 'durable', module: DURABLE_MODULE }, CHILD_TIME_LIMIT_MS, CHILD_ENV);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return outcome.ok ? outcome.result : { error: outcome.error };
}

function gitState(): { commit: string; dirty: boolean } | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain').length > 0 };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { config, only, out } = readConfig();
  const started = Date.now();
  const loadAtStart = loadavg();
  const notMeasured: Entry = { error: NOT_MEASURED };

  let peerInstallError: string | undefined;
  if (PEERS.some((peer) => only.has(peer.key)))
    peerInstallError = ensurePeersInstalled((line) => console.log(line));

  const targets: Target[] = [
    { key: 'floor', label: 'floor', adapter: fileURLToPath(new URL('./adapters/floor.js', HERE)) },
    { key: 'baton', label: 'baton', adapter: fileURLToPath(new URL('./adapters/baton.js', HERE)) },
    // Baton with every built-in guard on every stage, measured in the same rounds (security.guardOverheadUs).
    {
      key: 'guards',
      label: 'baton + every guard',
      adapter: fileURLToPath(new URL('./adapters/baton-guarded.js', HERE)),
    },
    ...PEERS.filter(() => peerInstallError === undefined).map((peer) => ({
      key: peer.key,
      label: peer.packageName,
      adapter: peer.adapter,
    })),
  ].filter((target) => only.has(target.key as TargetKey));
  const measured = await measureTargets(targets, config, CHILD_ENV, (text) => process.stdout.write(text));
  const floor = measured.get('floor') ?? notMeasured;
  const baton = measured.get('baton') ?? notMeasured;
  const guarded = measured.get('guards') ?? notMeasured;
  const peers = {} as Record<PeerKey, Entry>;
  for (const peer of PEERS) {
    if (!only.has(peer.key)) peers[peer.key] = notMeasured;
    else if (peerInstallError) {
      const version = installedPeerVersion(peer.packageName);
      peers[peer.key] = version ? { error: peerInstallError, version } : { error: peerInstallError };
    } else peers[peer.key] = measured.get(peer.key) ?? notMeasured;
  }
  const bus = only.has('bus') ? await measureBus() : { error: NOT_MEASURED };
  const journalOverhead = only.has('durable') ? await measureDurable() : { error: NOT_MEASURED };
  // Context compaction on long tasks (issue 13): memory.p6.
  const memory = only.has('memory') ? await measureMemoryTarget(CHILD_ENV) : { error: NOT_MEASURED };
  // The HTTP gateway against run() (issue 15): server.*.
  const server = only.has('server') ? await measureServerTarget(CHILD_ENV) : { error: NOT_MEASURED };
  // ReAct against plan-and-execute on the same ten tasks (issue 14): planning.
  const planning = only.has('planning') ? await measurePlanningTarget(CHILD_ENV) : { error: NOT_MEASURED };
  // Per-step cost of recording metrics with a real MeterProvider vs none (issue 16): metrics.overheadUs.
  const metricsFigures = only.has('metrics')
    ? await measureMetricsTarget(CHILD_ENV, config.runsPerRepetition < 5_000)
    : { error: NOT_MEASURED };

  const guardOverheadUs = only.has('guards')
    ? guardOverhead(baton, guarded, peers, await guardBreakdown(), await observeGuardChecks())
    : { error: NOT_MEASURED };

  const fullProtocol = isFullProtocol(config);
  const { ratios, goals } = compare(baton, floor, peers, fullProtocol);
  const batonFigures = 'error' in baton ? { stepOverheadUs: null, heapPerRunBytes: null, ...baton } : baton;
  const results = {
    meta: {
      date: new Date(started).toISOString(),
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${release()} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemoryBytes: totalmem(),
      loadAverage: {
        atStart: loadAtStart.map((load) => Number(load.toFixed(2))),
        atEnd: loadavg().map((load) => Number(load.toFixed(2))),
      },
      git: gitState(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      fullProtocol,
      notes:
        'Each framework ran in its own `node --expose-gc` child (NODE_ENV=production), one after another, on ' +
        'the same machine. Shared, noisy virtual CPUs: compare ratios within one run, not absolute figures ' +
        'across runs. Fake models are instant and in-process, so the figures are pure framework overhead.',
    },
    core: {
      ...batonFigures,
      warmupRuns: config.warmupRuns,
      warmupMs: config.warmupMs,
      repetitions: config.repetitions,
      runsPerRepetition: config.runsPerRepetition,
      concurrentRuns: config.concurrentRuns,
      floor,
      peers,
      ratios,
      goals,
    },
    bus,
    durable: { journalOverhead },
    security: { guardOverheadUs },
    memory,
    server,
    planning,
    metrics: metricsFigures,
  };

  const file = out ?? `${RESULTS}${fullProtocol && only.size === TARGETS.length ? 'latest' : 'partial'}.json`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  recordMemoryInLatest(`${RESULTS}latest.json`, file, memory);
  recordPlanningInLatest(`${RESULTS}latest.json`, file, planning);
  recordMetricsInLatest(`${RESULTS}latest.json`, file, metricsFigures);

  console.log('');
  console.log(
    formatTable(
      [
        { label: 'baton', entry: baton },
        { label: 'baton + every guard', entry: guarded },
        { label: 'floor (bare loop)', entry: floor },
        ...PEERS.map((peer) => ({ label: peer.packageName, entry: peers[peer.key] })),
      ],
      baton,
    ),
  );
  console.log('');
  console.log(describeGoals(ratios, goals));
  if (!('error' in guardOverheadUs)) console.log(describeGuards(guardOverheadUs));
  console.log(`\nbus: ${JSON.stringify(bus)}`);
  console.log(`\n${formatDurable(journalOverhead)}`);
  console.log(`\n${formatMemory(memory)}`);
  console.log(`\n${formatRecall((memory as { recall?: unknown }).recall)}`);
  console.log(`\n${formatServer(server)}`);
  console.log(`\n${formatPlanning(planning)}`);
  console.log(`\n${formatMetrics(metricsFigures)}`);
  console.log(`\nwrote ${file} (${results.meta.durationSeconds} s)`);
  // The figures are written either way; a Baton that cannot run the workload is a failure worth an exit code.
  if ('error' in baton && only.has('baton')) process.exitCode = 1;
}

function describeGoals(
  ratios: ReturnType<typeof compare>['ratios'],
  goals: ReturnType<typeof compare>['goals'],
): string {
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  const show = (value: number | null) => (value === null ? 'n/a' : value.toFixed(3));
  return [
    `step overhead: Baton / fastest peer (${ratios.fastestPeer ?? '-'}) = ${show(ratios.stepVsFastestPeer)}, goal ≤ 0.1: ${verdict(goals.stepMet)}`,
    `heap per run:  Baton / smallest peer (${ratios.smallestPeer ?? '-'}) = ${show(ratios.heapVsSmallestPeer)}, goal ≤ 0.25: ${verdict(goals.heapMet)}`,
    `both goals met: ${goals.met}${goals.note ? ` (${goals.note})` : ''}`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
