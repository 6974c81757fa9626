/**
 * security.pii: the PII and secret detectors (`detectPii`, what `piiGuard` redacts with) scored on the
 * labelled corpus the core tests use, packages/core/test/fixtures/pii-corpus.json (read from there, so
 * the suite and the tests judge the same strings). The figures are reported as measured: the detectors
 * are not tuned here, and a miss or a false positive shows up in `mistakes`.
 */
import { readFileSync } from 'node:fs';
import { evaluatePiiCorpus, PII_KINDS, type PiiCorpusSample } from '@baton/core';
import { z } from 'zod';
import type { ChaosScenario } from './scenario.js';

const CORPUS = new URL('../../../packages/core/test/fixtures/pii-corpus.json', import.meta.url);
const CORPUS_PATH = 'packages/core/test/fixtures/pii-corpus.json';

const corpusSchema = z
  .array(
    z.object({
      text: z.string(),
      expected: z.array(z.object({ kind: z.string(), value: z.string() })),
    }),
  )
  .min(1);

interface KindFigures {
  labelled: number;
  found: number;
  missed: number;
  falsePositives: number;
}

export const pii: ChaosScenario = {
  key: 'security.pii',
  description:
    'PII and secret detection on a labelled corpus of ≥ 200 strings: misses and false positives as measured',
  async run() {
    const corpus: PiiCorpusSample[] = corpusSchema.parse(JSON.parse(readFileSync(CORPUS, 'utf8')));
    const started = performance.now();
    const report = evaluatePiiCorpus(corpus);
    const ms = performance.now() - started;
    const byKind: Record<string, KindFigures> = {};
    const entry = (kind: string) => {
      byKind[kind] ??= { labelled: 0, found: 0, missed: 0, falsePositives: 0 };
      return byKind[kind];
    };
    for (const kind of PII_KINDS) entry(kind);
    for (const sample of corpus) for (const label of sample.expected) entry(label.kind).labelled++;
    for (const mistake of report.mistakes.missed) entry(mistake.kind).missed++;
    for (const mistake of report.mistakes.falsePositives) entry(mistake.kind).falsePositives++;
    for (const figures of Object.values(byKind)) figures.found = figures.labelled - figures.missed;
    return {
      samples: report.samples,
      negatives: corpus.filter((sample) => sample.expected.length === 0).length,
      labelled: report.expected,
      missed: report.missed,
      falsePositives: report.falsePositives,
      byKind,
      // The corpus is synthetic (no real person's data), so the mistakes can be shown as they are.
      mistakes: report.mistakes,
      msTotal: Math.round(ms * 10) / 10,
      corpus: CORPUS_PATH,
      method:
        'evaluatePiiCorpus: a label is found when a finding has its kind and exactly its span (whitespace trimmed); a finding matching no label is a false positive',
    };
  },
  check(figures) {
    const { samples } = figures as { samples: number };
    // Misses and false positives are reported, not thresholded: the figure is honest either way. The
    // promise is the size of the corpus.
    return samples >= 200 ? [] : [`the corpus has ${samples} samples (≥ 200 wanted)`];
  },
};
