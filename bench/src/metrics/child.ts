/** `node --expose-gc metrics/child.js <options-json> <out-file>`: the metrics benchmark in a fresh process. */
import { writeFileSync } from 'node:fs';
import { measureMetrics } from './index.js';

const [optionsJson, outFile] = process.argv.slice(2);
if (!optionsJson || !outFile) throw new Error('usage: metrics/child.js <options-json> <out-file>');
measureMetrics(JSON.parse(optionsJson)).then(
  (figures) => {
    writeFileSync(outFile, JSON.stringify(figures));
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
