import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { abMarkdown, loadSuite, resolveVariant, runAb } from '@baton/eval';
import { EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { asUsage, writeReport } from './eval.js';

export interface AbFlags {
  a: string;
  b: string;
  samples?: number;
  seed?: number;
  iterations?: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `baton ab <suite> --a <variant> --b <variant>`: both arms on the same cases, paired; prints the
 * Markdown report (McNemar, bootstrap CIs, the sample-size warning) or the JSON with `--json`. Exit 0
 * when it ran: the comparison is information, not a gate.
 */
export function abCommand(suitePath: string, flags: AbFlags, io: Io): Promise<number> {
  return asUsage(runAbCommand(suitePath, flags, io));
}

async function runAbCommand(suitePath: string, flags: AbFlags, io: Io): Promise<number> {
  const suite = loadSuite(suitePath);
  const named = suite.variants ?? {};
  const a = resolveVariant(flags.a, named, suite.target, existsSync);
  const b = resolveVariant(flags.b, named, suite.target, existsSync);
  const quiet = flags.quiet === true || flags.json === true;
  const report = await runAb(suite, a, b, {
    baseDir: dirname(resolve(suitePath)),
    ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.iterations !== undefined ? { iterations: flags.iterations } : {}),
    onCase: (id, index, total) => {
      if (!quiet) io.err(`[${index + 1}/${total}] ${id}`);
    },
  });
  if (report.warning && !quiet) io.err(`warning: ${report.warning}`);
  const markdown = abMarkdown(report);
  if (flags.out) writeReport(flags.out, report, markdown);
  io.out(flags.json ? JSON.stringify(report, null, 2) : markdown);
  return EXIT.OK;
}
