import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi, launchChromium, requireBuiltCli, startView, type ViewProcess } from './browser.js';

let view: ViewProcess;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  requireBuiltCli();
  buildUi();
  browser = await launchChromium();
  view = await startView();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // Requests still in flight when the test navigates away are aborted: that is not an error of the console.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
      consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
  page.setDefaultTimeout(60_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await view?.stop();
});

async function startFromForm(team: string, topic: string): Promise<string> {
  await page.getByRole('link', { name: 'Start a run' }).click();
  await page.getByRole('heading', { name: 'Start a run' }).waitFor();
  await page.getByLabel('Team').selectOption(team);
  await page.getByLabel('Topic').fill(topic);
  await page.getByRole('button', { name: 'Start run' }).click();
  await page.waitForFunction("location.hash.startsWith('#/runs/')");
  return decodeURIComponent(new URL(page.url()).hash.slice('#/runs/'.length));
}

describe('the console in headless Chromium', () => {
  it('starts the research team from the form, shows it finish live, and its waterfall has every member', async () => {
    await page.goto(view.url);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.getByLabel('Your name').fill('e2e-tester');
    // Marks this document: if the page reloaded, the mark would be gone.
    await page.evaluate('window.consoleMark = true');
    const runId = await startFromForm('research', 'retries, timeouts and budgets');
    expect(runId).toMatch(/^research-/);
    const status = page.getByTestId('run-status');
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toBe('completed');
    expect(await page.evaluate('window.consoleMark')).toBe(true);

    await page.locator('tr[data-operation="invoke_workflow"]').first().waitFor();
    const members = await page
      .locator('tr[data-operation="invoke_agent"]')
      .evaluateAll((rows) => [...new Set(rows.map((row) => row.getAttribute('data-agent')))].sort());
    expect(members).toEqual(['researcher', 'reviewer', 'writer']);
    for (const operation of ['handoff', 'chat', 'execute_tool']) {
      expect(await page.locator(`tr[data-operation="${operation}"]`).count()).toBeGreaterThan(0);
    }
    await expect.poll(() => page.getByTestId('stop-reason').textContent()).toContain('completed');
    expect(await page.locator('tr[data-agent="writer"] th').first().textContent()).toBeTruthy();
    // The handoff graph names who handed work to whom.
    expect(await page.locator('figure.graph title').textContent()).toContain('user to researcher');

    // The runs list has it, with who started it.
    await page.getByRole('link', { name: 'Runs' }).click();
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('completed');
    expect(await row.textContent()).toContain('e2e-tester');
  });

  it('a run waiting on a destructive call is approved from the approvals page and completes, once', async () => {
    const runId = await startFromForm(
      'operations',
      'Delete the sessions nobody has used for more than 90 days',
    );
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 })
      .toBe('awaiting_approval');
    await page.getByRole('heading', { name: 'Waiting for a decision' }).waitFor();

    await page.getByRole('link', { name: 'Approvals' }).click();
    const card = page.locator('article.card', { hasText: 'delete_stale_records' });
    await card.waitFor();
    expect(await card.textContent()).toContain('destructive');
    expect(await card.textContent()).toContain('permanently delete');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText('No calls wait for a decision.').waitFor();

    await page.goto(`${view.url}#/runs/${encodeURIComponent(runId)}`);
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 })
      .toBe('completed');
    const tools = await page.locator('ul.tools').textContent();
    expect(tools).toContain('delete_stale_records');
    expect(tools).toContain('approved by e2e-tester (console)');
    // The destructive tool ran exactly once.
    const effects = readFileSync(join(view.cwd, 'effects.log'), 'utf8').trim().split('\n');
    expect(effects).toHaveLength(1);
  });

  it('reads in a narrow window and works from the keyboard', async () => {
    await page.setViewportSize({ width: 380, height: 800 });
    await page.goto(view.url);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.locator('tr[data-run]').first().waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Runs');
    // Every form control has a label.
    for (const hash of ['#/', '#/start', '#/approvals', '#/insights']) {
      await page.goto(`${view.url}${hash}`);
      await page.locator('main h1').waitFor();
      // Source text, evaluated in the page (the tests compile without the DOM library).
      const unlabelled = await page.evaluate<string[]>(
        `[...document.querySelectorAll('input, select, textarea')]
          .filter((control) => !control.labels?.length && !control.getAttribute('aria-label'))
          .map((control) => control.outerHTML)`,
      );
      expect(unlabelled).toEqual([]);
    }
    await page.goto(`${view.url}#/insights`);
    await page.getByRole('heading', { name: 'Runs over time' }).waitFor();
    expect(await page.locator('figure.chart').count()).toBe(5);
  });

  it('logged no console errors on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
