#!/usr/bin/env node
// Screenshots of the console for the docs, from real runs: starts `baton view` (the built CLI) on a fresh
// directory, runs the research team and the approval example's team from the API, and photographs the
// runs list and a run page with Debian's Chromium.
//
//   npx tsc -b && npm run build:ui -w @baton/console && node packages/console/scripts/screenshots.mjs [outDir]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const outDir = resolve(process.argv[2] ?? join(root, 'docs'));
const executablePath =
  process.env.BATON_CHROMIUM ?? execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
const cwd = mkdtempSync(join(tmpdir(), 'baton-shots-'));
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(OPENAI|ANTHROPIC|BATON_MODEL|OTEL_)/.test(key)),
);

const view = spawn(
  process.execPath,
  [
    join(root, 'packages/cli/dist/bin.js'),
    'view',
    '--port',
    '0',
    '--dir',
    join(cwd, '.baton'),
    '--team',
    join(root, 'examples/dist/with-approval/team.js'),
  ],
  { cwd, env: { ...env, BATON_OPS_EFFECTS: join(cwd, 'effects.log') }, stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise((resolveUrl, reject) => {
  let out = '';
  view.stdout.setEncoding('utf8').on('data', (chunk) => {
    out += chunk;
    const match = /Baton console: (http:\S+)/.exec(out);
    if (match) resolveUrl(match[1]);
  });
  view.once('exit', (code) => reject(new Error(`baton view exited (${code})`)));
});

async function call(path, body) {
  const response = await fetch(
    new URL(path, url),
    body
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {},
  );
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function waitFor(runId, statuses) {
  for (let i = 0; i < 600; i++) {
    const { runs } = await call(`api/runs?q=${encodeURIComponent(runId)}`);
    const run = runs.find((r) => r.runId === runId);
    if (run && statuses.includes(run.status) && (run.status !== 'completed' || !run.live)) return run;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${runId} did not reach ${statuses}`);
}

const errors = [];
const browser = await chromium.launch({
  executablePath,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const topics = [
    'retries, timeouts and budgets for AI agents in production',
    'idempotent tool calls',
    'handoff contracts between agents',
  ];
  let shown;
  for (const [index, topic] of topics.entries()) {
    const { runId } = await call('api/runs', {
      team: index === 1 ? 'research-supervisor' : 'research',
      topic,
      user: index === 2 ? 'sam' : 'ana',
    });
    await waitFor(runId, ['completed', 'failed', 'timeout', 'max_steps', 'budget_exceeded']);
    // Not the process's first run, whose waterfall opens on the one-off start-up (models, corpus).
    if (index === 2) shown = runId;
  }
  // One run left waiting for a person, as the list shows it live.
  const { runId: paused } = await call('api/runs', {
    team: 'operations',
    topic: 'Delete the sessions nobody has used for more than 90 days',
    user: 'ops-lead',
  });
  await waitFor(paused, ['awaiting_approval']);

  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.locator('tr[data-run]').nth(3).waitFor();
  await page.screenshot({ path: join(outDir, 'console-runs.png') });

  await page.setViewportSize({ width: 1280, height: 1500 });
  await page.goto(`${url}#/runs/${encodeURIComponent(shown)}`);
  await page.locator('tr[data-operation="invoke_workflow"]').waitFor();
  await page.screenshot({ path: join(outDir, 'console-run.png') });
  if (process.env.BATON_SHOTS_ALL) {
    // Pages not in the docs, to look at: the approvals page in a narrow window, and the metrics page.
    await page.setViewportSize({ width: 400, height: 900 });
    await page.goto(`${url}#/approvals`);
    await page.locator('article.card').waitFor();
    await page.screenshot({ path: join(outDir, 'console-approvals-narrow.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${url}#/insights`);
    await page.locator('figure.chart').first().waitFor();
    await page.screenshot({ path: join(outDir, 'console-insights.png') });
  }
  console.log(`Wrote ${join(outDir, 'console-runs.png')} and ${join(outDir, 'console-run.png')}`);
} finally {
  await browser.close();
  view.kill('SIGTERM');
  await new Promise((r) => view.once('exit', r));
  rmSync(cwd, { recursive: true, force: true });
}
if (errors.length > 0) {
  console.error(`Console errors:\n${errors.join('\n')}`);
  process.exit(1);
}
