/**
 * `npm run chaos`: the reliability suite. Each scenario starts what it needs (real nats-server
 * processes, worker processes it kills and restarts), measures, and returns its figures; they are merged
 * into bench/results/reliability.json under the scenario's key. Exit code 1 when any promise is broken.
 *
 * Flags: --only key1,key2 (prefixes match: `team` runs every team.* scenario), --quick (smaller counts;
 * the figures are then written to bench/results/reliability.quick.json instead).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChaosOptions } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

const RESULTS = fileURLToPath(new URL('../../results/', import.meta.url));

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const only = values.only?.split(',').map((part) => part.trim());
  const chosen = SCENARIOS.filter(
    (scenario) =>
      !only || only.some((prefix) => scenario.key === prefix || scenario.key.startsWith(`${prefix}.`)),
  );
  if (chosen.length === 0) {
    console.error(
      `No scenario matches --only ${values.only}; known: ${SCENARIOS.map((s) => s.key).join(', ')}`,
    );
    return 2;
  }
  const options: ChaosOptions = { quick: values.quick, log: (line) => console.error(line) };
  const file = `${RESULTS}${values.quick ? 'reliability.quick.json' : 'reliability.json'}`;
  const report: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const broken: string[] = [];
  for (const scenario of chosen) {
    console.error(`\n▶ ${scenario.key}: ${scenario.description}`);
    const started = performance.now();
    let figures: Record<string, unknown>;
    try {
      figures = await scenario.run(options);
    } catch (error) {
      figures = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    const seconds = (performance.now() - started) / 1000;
    const problems = 'error' in figures ? [`threw: ${String(figures.error)}`] : scenario.check(figures);
    figures.passed = problems.length === 0;
    figures.seconds = Math.round(seconds * 10) / 10;
    figures.measuredAt = new Date().toISOString();
    setPath(report, scenario.key, figures);
    console.error(`${problems.length === 0 ? 'PASS' : 'FAIL'} ${scenario.key} (${seconds.toFixed(1)} s)`);
    console.error(JSON.stringify(figures));
    for (const problem of problems) {
      console.error(`  ✗ ${problem}`);
      broken.push(`${scenario.key}: ${problem}`);
    }
  }
  report.machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    loadavg: loadavg(),
    os: release(),
    node: process.version,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.error(`\nwrote ${file}`);
  if (broken.length > 0) {
    console.error(`\n${broken.length} broken promise(s):\n${broken.map((line) => `- ${line}`).join('\n')}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
