/**
 * Scores PII detection on a labelled corpus: the figures of the reliability suite's `pii` check and of
 * the detector's own tests (packages/core/test/fixtures/pii-corpus.json).
 */
import { detectPii, type PiiKind, type PiiOptions } from './pii.js';

export interface PiiCorpusSample {
  text: string;
  /** Every piece of PII in `text`: its kind and the exact text. Empty for a negative sample. */
  expected: readonly { kind: string; value: string }[];
}

export interface PiiCorpusMistake {
  /** Position of the sample in the corpus. */
  sample: number;
  kind: string;
  value: string;
}

export interface PiiCorpusReport {
  samples: number;
  /** Pieces of PII the corpus labels. */
  expected: number;
  /** Labelled pieces not found with the right kind and the exact span (whitespace trimmed). */
  missed: number;
  /** Findings that match no label. */
  falsePositives: number;
  /** The mistakes, for a test's failure message (the corpus is synthetic, so values are shown). */
  mistakes: { missed: PiiCorpusMistake[]; falsePositives: PiiCorpusMistake[] };
}

/** Runs `detectPii` on every sample and counts what it missed and what it found that was not there. */
export function evaluatePiiCorpus(
  corpus: readonly PiiCorpusSample[],
  options: PiiOptions = {},
): PiiCorpusReport {
  const report: PiiCorpusReport = {
    samples: corpus.length,
    expected: 0,
    missed: 0,
    falsePositives: 0,
    mistakes: { missed: [], falsePositives: [] },
  };
  const wanted = options.kinds ? new Set<string>(options.kinds) : undefined;
  corpus.forEach((sample, index) => {
    const expected = sample.expected
      .filter((label) => !wanted || wanted.has(label.kind as PiiKind))
      .map((label) => ({ kind: label.kind, value: label.value.trim(), matched: false }));
    report.expected += expected.length;
    for (const finding of detectPii(sample.text, options)) {
      const value = sample.text.slice(finding.start, finding.end).trim();
      const label = expected.find(
        (item) => !item.matched && item.kind === finding.kind && item.value === value,
      );
      if (label) label.matched = true;
      else report.mistakes.falsePositives.push({ sample: index, kind: finding.kind, value });
    }
    for (const label of expected) {
      if (!label.matched)
        report.mistakes.missed.push({ sample: index, kind: label.kind, value: label.value });
    }
  });
  report.missed = report.mistakes.missed.length;
  report.falsePositives = report.mistakes.falsePositives.length;
  return report;
}
