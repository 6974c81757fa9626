/**
 * Durable benchmark (`durable.journalOverhead`, issue 11): what journaling a team run to JetStream costs.
 *
 * 1. The research team of the catalogue (`catalogueTeam('research')`, offline model) run journaled to
 *    `natsJournal` and not journaled, in turn, in this process: ratio of the median wall times. Journaled
 *    the way a new run is started (`team.run(input, { journal })`: the team mints its run id, so there is
 *    nothing to read first), and, reported beside it, under a run id the caller names (`runId`: a
 *    resume-or-start, which reads the run's journal before it starts — what a worker does on every
 *    invocation).
 * 2. One journal `append` against a raw JetStream publish-ack of the same bytes on a stream with the same
 *    settings (file storage), interleaved call by call: p50/p99 of each.
 *
 * Called by bench/src/run.ts in its own child; the figures land under `durable.journalOverhead`.
 */
import { NatsBus, natsJournal } from '@baton/bus';
import { startNatsServer } from '@baton/bus/testing';
import { encodeJournalEntry, type JournalRecord, type JournalWriter, type RunJournal } from '@baton/core';
import type { Team, TeamResult } from '@baton/supervisor';
import { catalogueTeam, DEFAULT_TOPIC } from '@baton/teams';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { collect, Samples } from '../bus/stats.js';

export interface DurableBenchOptions {
  /** Rounds (one run of each variant) before the timed ones. */
  warmupPairs?: number;
  /** Timed rounds of team runs (plain, journaled, journaled under a named id; the order rotates). */
  pairs?: number;
  /** Appends (and as many raw publishes) before the timed ones. */
  warmupAppends?: number;
  appends?: number;
}

export interface JournalOverheadFigures {
  team: string;
  model: string;
  pairs: number;
  warmupPairs: number;
  plainMs: { p50: number; p90: number };
  /** A new journaled run: `team.run(input, { journal })`. */
  journaledMs: { p50: number; p90: number };
  /** Median journaled run ÷ median plain run. Goal ≤ 1.3. */
  ratio: number;
  /** Median over the rounds of journaled ÷ plain (each round ran its variants back to back). */
  pairRatioP50: number;
  /**
   * The same run under a run id the caller names (`{ journal, runId }`): the team reads that run's journal
   * first, since a named run that has records is resumed, not started again.
   */
  namedRunId: { p50: number; p90: number; ratio: number; pairRatioP50: number };
  goal: '<= 1.3';
  met: boolean;
  /** Journal records one research team run writes (team and members). */
  recordsPerRun: number;
  /** (journaled − plain) medians ÷ records: what one record costs the run, in µs. */
  usPerRecord: number;
  append: {
    p50Us: number;
    p99Us: number;
    floorP50Us: number;
    floorP99Us: number;
    ratio: number;
    samples: number;
    recordBytes: number;
  };
  method: Record<string, string | number>;
  measuredAt: string;
}

const NAMESPACE = 'bench_durable';
const RAW_STREAM = 'BENCH_RAW_PUBLISH';
const RAW_SUBJECT = 'bench.raw.journal';
/** Appends per journal writer before the benchmark opens the next run (real runs write tens of records). */
const APPENDS_PER_RUN = 50;

const round2 = (value: number) => Math.round(value * 100) / 100;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
}

/**
 * A full GC returns with its sweeping still running on background threads. On a 2-vCPU machine they take
 * the CPU the NATS server needs, and a run that starts at once waits for its first round trip: a named
 * run's journal read took 3.6 ms (median) right after the GC, 1.4 ms once the sweeping was done (and 1.35 ms
 * with `--no-concurrent-sweeping`). A run in production does not start on the heels of a forced GC, so
 * every run here (plain ones too) starts once that work is over.
 */
const SETTLE_MS = 10;

function settleAfterCollect(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

function expectCompleted(result: TeamResult, label: string): void {
  if (result.status !== 'completed') {
    throw new Error(`${label} research run ended ${result.status}: ${result.stopReason.message}`);
  }
}

/** Every record the run wrote: the team's journal and each member run's. */
async function recordsOf(journal: RunJournal, result: TeamResult): Promise<JournalRecord[]> {
  const runIds = [result.runId, ...Object.values(result.members).flatMap((member) => member.runIds)];
  const entries = await Promise.all([...new Set(runIds)].map((runId) => journal.read(runId)));
  return entries.flat().map((entry) => entry.record);
}

export async function measureDurable(options: DurableBenchOptions = {}): Promise<JournalOverheadFigures> {
  const warmupPairs = options.warmupPairs ?? 8;
  const pairs = options.pairs ?? 100;
  const warmupAppends = options.warmupAppends ?? 300;
  const appends = options.appends ?? 3_000;
  // The offline model even when the environment configures a provider: journaling is the whole difference.
  process.env.BATON_MODEL = 'offline';
  const server = await startNatsServer({ jetstream: true });
  const bus = await NatsBus.connect({ servers: server.url, name: 'bench-durable' });
  try {
    const journal = natsJournal(bus, { namespace: NAMESPACE });
    await journal.runs({ limit: 1 });

    // 1. The research team: not journaled, journaled as a new run, journaled under a named run id. Each
    //    round runs the three back to back, in an order that rotates every round.
    const entry = catalogueTeam('research');
    const team = entry.create() as Team<unknown, unknown>;
    const input = entry.input(DEFAULT_TOPIC);
    let serial = 0;
    const variants = {
      plain: () => team.run(input),
      journaled: () => team.run(input, { journal }),
      named: () => team.run(input, { journal, runId: `research-${++serial}` }),
    } as const;
    type VariantName = keyof typeof variants;
    const names = Object.keys(variants) as VariantName[];
    const timed = async (run: () => Promise<TeamResult>) => {
      collect();
      await settleAfterCollect();
      const started = performance.now();
      const result = await run();
      return { ms: performance.now() - started, result };
    };
    const samples: Record<VariantName, number[]> = { plain: [], journaled: [], named: [] };
    const roundRatios: Record<'journaled' | 'named', number[]> = { journaled: [], named: [] };
    let lastJournaled: TeamResult | undefined;
    for (let round = 0; round < warmupPairs + pairs; round++) {
      const shift = round % names.length;
      const order = [...names.slice(shift), ...names.slice(0, shift)];
      const times: Partial<Record<VariantName, number>> = {};
      for (const name of order) {
        const { ms, result } = await timed(variants[name]);
        expectCompleted(result, name);
        times[name] = ms;
        if (name === 'journaled') lastJournaled = result;
      }
      if (round < warmupPairs) continue;
      for (const name of names) samples[name].push(times[name] as number);
      roundRatios.journaled.push((times.journaled as number) / (times.plain as number));
      roundRatios.named.push((times.named as number) / (times.plain as number));
    }
    const plainMs = samples.plain;
    const journaledMs = samples.journaled;
    const records = lastJournaled ? await recordsOf(journal, lastJournaled) : [];

    // 2. One append against one raw publish-ack of the same bytes, interleaved.
    const sample =
      records.find((record) => record.type === 'model.step') ??
      ({
        type: 'model.step',
        at: Date.now(),
        elapsedMs: 1,
        step: 1,
        response: { text: 'x', toolCalls: [], model: 'offline', finishReason: 'stop' },
      } satisfies JournalRecord);
    const bytes = new TextEncoder().encode(
      encodeJournalEntry({ runId: 'bench-append-0', seq: 1, record: sample }).text,
    );
    const jsm = await jetstreamManager(bus.connection);
    await jsm.streams.add({
      name: RAW_STREAM,
      subjects: [`${RAW_SUBJECT}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    const js = jetstream(bus.connection);
    let writer: JournalWriter | undefined;
    let writerAppends = 0;
    let runs = 0;
    const appendSamples = new Samples();
    const rawSamples = new Samples();
    const appendOnce = async (keep: boolean) => {
      if (!writer || writerAppends >= APPENDS_PER_RUN) {
        writer = await journal.open(`bench-append-${++runs}`, 'bench');
        writerAppends = 0;
      }
      writerAppends++;
      const record = { ...sample, at: Date.now() } as JournalRecord;
      const started = process.hrtime.bigint();
      await writer.append(record);
      if (keep) appendSamples.add(Number(process.hrtime.bigint() - started) / 1_000);
    };
    const rawOnce = async (keep: boolean) => {
      const started = process.hrtime.bigint();
      await js.publish(`${RAW_SUBJECT}.${runs}`, bytes);
      if (keep) rawSamples.add(Number(process.hrtime.bigint() - started) / 1_000);
    };
    collect();
    for (let i = 0; i < warmupAppends + appends; i++) {
      const keep = i >= warmupAppends;
      if (i % 2 === 0) {
        await appendOnce(keep);
        await rawOnce(keep);
      } else {
        await rawOnce(keep);
        await appendOnce(keep);
      }
    }

    const plainP50 = median(plainMs);
    const journaledP50 = median(journaledMs);
    const ratio = round2(journaledP50 / plainP50);
    const appendP50 = appendSamples.percentile(0.5);
    const rawP50 = rawSamples.percentile(0.5);
    return {
      team: entry.name,
      model: 'offline',
      pairs,
      warmupPairs,
      plainMs: { p50: round2(plainP50), p90: round2(quantile(plainMs, 0.9)) },
      journaledMs: { p50: round2(journaledP50), p90: round2(quantile(journaledMs, 0.9)) },
      ratio,
      pairRatioP50: round2(median(roundRatios.journaled)),
      namedRunId: {
        p50: round2(median(samples.named)),
        p90: round2(quantile(samples.named, 0.9)),
        ratio: round2(median(samples.named) / plainP50),
        pairRatioP50: round2(median(roundRatios.named)),
      },
      goal: '<= 1.3',
      met: ratio <= 1.3,
      recordsPerRun: records.length,
      usPerRecord: records.length > 0 ? Math.round(((journaledP50 - plainP50) * 1_000) / records.length) : 0,
      append: {
        p50Us: round2(appendP50),
        p99Us: round2(appendSamples.percentile(0.99)),
        floorP50Us: round2(rawP50),
        floorP99Us: round2(rawSamples.percentile(0.99)),
        ratio: round2(appendP50 / rawP50),
        samples: appendSamples.count,
        recordBytes: bytes.byteLength,
      },
      method: {
        team: `catalogueTeam('research') with the offline model (BATON_MODEL=offline), topic "${DEFAULT_TOPIC}"`,
        journal: 'natsJournal on a local nats-server with JetStream (file storage), one connection',
        teamTiming: `after warm-up rounds, each round runs plain, journaled (a new run: the team mints its id) and journaled under a named run id (read first: resume-or-start) back to back, in an order that rotates every round, a full GC and ${SETTLE_MS} ms for its background sweeping before each run; ratio = median journaled ÷ median plain`,
        append: `journal.append of a model.step record from a research run (a new run every ${APPENDS_PER_RUN} appends, opened untimed) vs js.publish of the same bytes to a file-storage stream, alternating call by call after ${warmupAppends} warm-up pairs`,
        node: process.version,
      },
      measuredAt: new Date().toISOString(),
    };
  } finally {
    await bus.close().catch(() => undefined);
    await server.stop();
  }
}
