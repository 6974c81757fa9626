import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BatonError } from '@baton/core';
import { evalMarkdown, loadSuite, resolveVariant, runSuite } from '@baton/eval';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';

export interface EvalFlags {
  /** Run this variant (a suite variant, a team name, a JSON file or inline JSON) instead of the target. */
  variant?: string;
  /** Runs per case (default 1). */
  samples?: number;
  /** Success rate (0–1) below which the command exits 1; default the suite's threshold, else 1. */
  threshold?: number;
  /** Where to write the JSON report; the Markdown report goes beside it (`.md`). */
  out?: string;
  /** Write a recording of every run into this directory (`true`: .baton/recordings), for `baton eval add-case`. */
  record?: string | boolean;
  /** Only these case ids. */
  case?: string[];
  json?: boolean;
  quiet?: boolean;
}

/**
 * `baton eval <suite>`: runs a golden set and prints the Markdown report (or the JSON with `--json`).
 * Exit 0 when the success rate reaches the threshold, 1 below it: the CI gate.
 */
export function evalCommand(suitePath: string, flags: EvalFlags, io: Io): Promise<number> {
  return asUsage(runEval(suitePath, flags, io));
}

/** A suite, case, variant or recording that is not valid is a usage error (exit 2), like a bad flag. */
export async function asUsage(action: Promise<number>): Promise<number> {
  try {
    return await action;
  } catch (error) {
    if (
      error instanceof BatonError &&
      (error.code === 'EVAL_SUITE_INVALID' || error.code === 'INPUT_INVALID')
    ) {
      throw new CliError(error.message, EXIT.USAGE, error.hint);
    }
    throw error;
  }
}

async function runEval(suitePath: string, flags: EvalFlags, io: Io): Promise<number> {
  if (flags.threshold !== undefined && !(flags.threshold >= 0 && flags.threshold <= 1)) {
    throw new CliError('--threshold is a success rate between 0 and 1', EXIT.USAGE);
  }
  const suite = loadSuite(suitePath);
  const variant = flags.variant
    ? resolveVariant(flags.variant, suite.variants ?? {}, suite.target, existsSync)
    : suite.target;
  const quiet = flags.quiet === true || flags.json === true;
  const report = await runSuite(suite, {
    variant,
    baseDir: dirname(resolve(suitePath)),
    ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
    ...(flags.threshold !== undefined ? { threshold: flags.threshold } : {}),
    ...(flags.record ? { recordDir: flags.record === true ? DEFAULT_RECORDINGS_DIR : flags.record } : {}),
    ...(flags.case?.length ? { only: flags.case } : {}),
    onCase: (result, index, total) => {
      if (quiet) return;
      const mark = result.passed === result.samples.length ? 'pass' : 'FAIL';
      io.err(`[${index + 1}/${total}] ${mark} ${result.id} (${result.passed}/${result.samples.length})`);
    },
  });
  const markdown = evalMarkdown(report);
  if (flags.out) writeReport(flags.out, report, markdown);
  if (flags.json) io.out(JSON.stringify(report, null, 2));
  else io.out(markdown);
  if (flags.out && !quiet) io.err(`Report: ${flags.out} and ${markdownPath(flags.out)}`);
  if (flags.record && !quiet) {
    io.err(
      `Recordings: ${flags.record === true ? DEFAULT_RECORDINGS_DIR : flags.record} (baton eval add-case <runId> --suite <file>)`,
    );
  }
  return report.ok ? EXIT.OK : EXIT.NOT_COMPLETED;
}

/** Writes `path` (JSON) and the Markdown beside it, creating the directory. */
export function writeReport(path: string, report: unknown, markdown: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdownPath(path), markdown);
}

export function markdownPath(path: string): string {
  return path.endsWith('.json') ? `${path.slice(0, -'.json'.length)}.md` : `${path}.md`;
}

export const DEFAULT_RECORDINGS_DIR = join('.baton', 'recordings');
