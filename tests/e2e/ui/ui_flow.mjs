// Drives the dashboard in Chromium through one user's session: key entry, an import checked with
// a dry run and then submitted, its live progress and rejected rows, an export and its download,
// the job list with filters, and the overview. Saves a screenshot per page and the downloads, and
// prints a JSON summary on its last line. Exits non-zero on the first failed step.
//
// Environment: JOBGATE_UI_URL (the gateway's base URL), JOBGATE_API_KEY, JOBGATE_UI_CSV (the file
// to import), JOBGATE_UI_OUTPUT (a directory for screenshots and downloads), JOBGATE_CHROMIUM
// (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import path from 'node:path';

const baseUrl = process.env.JOBGATE_UI_URL;
const apiKey = process.env.JOBGATE_API_KEY;
const csvPath = process.env.JOBGATE_UI_CSV;
const output = process.env.JOBGATE_UI_OUTPUT;
const STEP_TIMEOUT_MS = 60_000;

const browser = await chromium.launch({
  executablePath: process.env.JOBGATE_CHROMIUM ?? '/usr/bin/chromium',
  // Chromium's sandbox needs user namespaces, which containers running as root often lack.
  args: ['--no-sandbox'],
});
const summary = {};
const pageErrors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  // Console errors include Content-Security-Policy violations and failed module loads.
  page.on('console', (message) => {
    if (message.type() === 'error') {
      pageErrors.push(message.text());
    }
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const nav = page.getByRole('navigation', { name: 'Main' });
  // Transitions are finished before each screenshot, so a bar at 100% is drawn full.
  const shoot = (name) => page.screenshot({
    path: path.join(output, `${name}.png`), fullPage: true, animations: 'disabled',
  });

  // The key form shows first with the key field focused, and works with the keyboard alone.
  await page.goto(`${baseUrl}/ui`);
  summary.finalUrl = page.url();
  summary.keyFormFocus = await page.evaluate(() => document.activeElement?.id);
  await page.keyboard.type(apiKey);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();

  // Import: dry run, check the suggested mapping, submit, follow the progress to 100%.
  await nav.getByRole('link', { name: 'Import' }).click();
  await page.getByLabel('CSV file', { exact: true }).setInputFiles(csvPath);
  await page.getByLabel('Object type', { exact: true }).selectOption('contacts');
  await page.getByRole('button', { name: 'Check file' }).click();
  await page.getByRole('heading', { name: 'Check result' }).waitFor();
  summary.suggestedMapping = {
    Email: await page.getByLabel('Email', { exact: true }).inputValue(),
    'First Name': await page.getByLabel('First Name', { exact: true }).inputValue(),
    Notes: await page.getByLabel('Notes', { exact: true }).inputValue(),
  };
  await shoot('import-check');
  await page.getByRole('button', { name: 'Start import' }).click();
  await page.waitForURL(/#\/jobs\/imp_[0-9a-f]{32}$/);
  summary.importId = decodeURIComponent(page.url().split('#/jobs/')[1]);
  const progress = page.getByRole('progressbar', { name: 'Job progress' });
  await progress.waitFor();
  // Records every value the bar shows, to prove that it moved while the job ran.
  await progress.evaluate((bar) => {
    window.progressValues = [bar.getAttribute('aria-valuenow')];
    new MutationObserver(() => window.progressValues.push(bar.getAttribute('aria-valuenow')))
      .observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
  });
  await progress.and(page.locator('[aria-valuenow="100"]')).waitFor();
  summary.progressSeen = await progress.getAttribute('aria-valuenow');
  summary.progressValues = await page.evaluate(() => window.progressValues);
  await page.getByRole('heading', { name: /^Rejected rows \(\d+\)$/ }).waitFor();
  summary.rejectedHeading = await page.getByRole('heading', { name: /^Rejected rows/ }).textContent();
  summary.errorTableRows = await page.locator('.error-table tbody tr').count();
  await page.getByRole('heading', { name: 'Result' }).waitFor();
  await shoot('job-detail');
  const [errorsDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download rejected rows as CSV' }).click(),
  ]);
  summary.errorsFile = path.join(output, errorsDownload.suggestedFilename());
  await errorsDownload.saveAs(summary.errorsFile);

  // Export: create one, wait for its signed link, download the file.
  await nav.getByRole('link', { name: 'Exports' }).click();
  await page.getByLabel('email', { exact: true }).waitFor();
  await page.getByLabel('Name (optional)').fill('dashboard export');
  await page.getByRole('button', { name: 'Create export' }).click();
  const exportLink = page.getByRole('link', { name: 'Download CSV of dashboard export' });
  await exportLink.waitFor();
  await shoot('exports');
  const [exportDownload] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
  summary.exportFile = path.join(output, exportDownload.suggestedFilename());
  await exportDownload.saveAs(summary.exportFile);

  // Job list: filter to finished imports. The unfiltered list is marked first, because it stays
  // in the page until the hashchange event renders the filtered one.
  await nav.getByRole('link', { name: 'Jobs' }).click();
  await page.locator('.table tbody tr', { hasText: summary.importId }).waitFor();
  await page.locator('.table').evaluate((table) => table.classList.add('unfiltered'));
  await page.getByLabel('Kind', { exact: true }).selectOption('imports');
  await page.getByLabel('DONE', { exact: true }).check();
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/#\/jobs\?kind=imports&status=DONE$/);
  await page.locator('.table:not(.unfiltered) tbody tr', { hasText: summary.importId }).waitFor();
  summary.filteredRows = await page.locator('.table:not(.unfiltered) tbody tr').count();
  await shoot('jobs');

  // Overview: both charts and the queue table from /metrics.
  await nav.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('figure', { name: 'Jobs by state and kind' }).waitFor();
  await page.getByRole('heading', { name: 'Queue depth, all tenants' }).waitFor();
  summary.chartLabel = await page.locator('svg.chart').first().getAttribute('aria-label');
  summary.queueTableRows = await page.locator('section:has(#queue-title) tbody tr').count();
  await shoot('overview');
} finally {
  summary.pageErrors = pageErrors;
  await browser.close();
}
console.log(JSON.stringify(summary));
