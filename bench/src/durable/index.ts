/**
 * Durable benchmark (`durable.journalOverhead`, issue 11): what journaling a team run to JetStream costs.
 *
 * 1. The research team of the catalogue (`catalogueTeam('research')`, offline model) run journaled to
 *    `natsJournal` and not journaled, alternately, in this process: ratio of the median wall times.
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
  /** Team runs (each variant) before the timed ones. */
  warmupPairs?: number;
  /** Timed pairs of team runs (one journaled, one not, in alternating order). */
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
  journaledMs: { p50: number; p90: number };
  /** Median journaled run ÷ median plain run. Goal ≤ 1.3. */
  ratio: number;
  /** Median over the pairs of journaled ÷ plain (each pair ran back to back). */
  pairRatioP50: number;
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

    // 1. The research team, journaled and not, alternately (the order flips every pair).
    const entry = catalogueTeam('research');
    const team = entry.create() as Team<unknown, unknown>;
    const input = entry.input(DEFAULT_TOPIC);
    let serial = 0;
    const runPlain = () => team.run(input);
    const runJournaled = () => team.run(input, { journal, runId: `research-${++serial}` });
    const timed = async (run: () => Promise<TeamResult>) => {
      collect();
      const started = performance.now();
      const result = await run();
      return { ms: performance.now() - started, result };
    };
    for (let i = 0; i < warmupPairs; i++) {
      expectCompleted((await timed(runPlain)).result, 'plain');
      expectCompleted((await timed(runJournaled)).result, 'journaled');
    }
    const plainMs: number[] = [];
    const journaledMs: number[] = [];
    const pairRatios: number[] = [];
    let lastJournaled: TeamResult | undefined;
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? (['plain', 'journaled'] as const) : (['journaled', 'plain'] as const);
      const pair: Record<string, number> = {};
      for (const variant of order) {
        const { ms, result } = await timed(variant === 'plain' ? runPlain : runJournaled);
        expectCompleted(result, variant);
        pair[variant] = ms;
        if (variant === 'journaled') lastJournaled = result;
      }
      plainMs.push(pair.plain as number);
      journaledMs.push(pair.journaled as number);
      pairRatios.push((pair.journaled as number) / (pair.plain as number));
    }
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
      pairRatioP50: round2(median(pairRatios)),
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
        teamTiming:
          'after warm-up pairs, each pair runs plain and journaled back to back (order flips every pair), a full GC before each run; ratio = median journaled ÷ median plain',
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
