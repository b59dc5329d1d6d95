// Drives the dashboard in Chromium through one user's session. It enters a rejected key and then
// a valid one, checks files that the dry run rejects, and checks and submits an import whose live
// progress and failed rows it follows. It retries an export after a 503 and downloads the file,
// filters the job list, and opens the overview. Last, it opens the overview and the job list
// while the gateway is unreachable, an unknown job id, and the pages on a 390 px wide screen.
// Saves a screenshot per page and the downloads, and prints a JSON summary on its last line.
// Exits non-zero on the first failed step.
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
// A 1x1 PNG: binary data that no CSV reader accepts.
const PNG_BYTES = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64');

const browser = await chromium.launch({
  executablePath: process.env.JOBGATE_CHROMIUM ?? '/usr/bin/chromium',
  // Chromium's sandbox needs user namespaces, which containers running as root often lack.
  args: ['--no-sandbox'],
});
const summary = {};
const pageErrors = [];
// Chromium logs each HTTP error and refused connection as a console error. Steps that cause them
// on purpose set this, and only those messages are then ignored.
let expectFailedLoads = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  // Console errors include Content-Security-Policy violations and failed module loads.
  page.on('console', (message) => {
    const failedLoad = message.text().startsWith('Failed to load resource');
    if (message.type() === 'error' && !(expectFailedLoads && failedLoad)) {
      pageErrors.push(message.text());
    }
  });
  // Idempotency-Key headers of job submissions, and reads of an import's failed rows.
  const importKeys = [];
  const exportKeys = [];
  const errorReads = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.method() === 'POST' && url.pathname === '/v1/imports' && !url.search.includes('dryRun')) {
      importKeys.push(request.headers()['idempotency-key'] ?? null);
    }
    if (request.method() === 'POST' && url.pathname === '/v1/exports') {
      exportKeys.push(request.headers()['idempotency-key'] ?? null);
    }
    if (/^\/v1\/imports\/[^/]+\/errors$/.test(url.pathname) && url.searchParams.has('limit')) {
      errorReads.push(Date.now());
    }
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const nav = page.getByRole('navigation', { name: 'Main' });
  // Transitions are finished before each screenshot, so a bar at 100% is drawn full.
  const shoot = (name) => page.screenshot({
    path: path.join(output, `${name}.png`), fullPage: true, animations: 'disabled',
  });

  // The key form shows first with the key field focused, and works with the keyboard alone. The
  // gateway returns 401 for a wrong key, and the form then shows that the key was rejected.
  await page.goto(`${baseUrl}/ui`);
  summary.finalUrl = page.url();
  summary.keyFormFocus = await page.evaluate(() => document.activeElement?.id);
  expectFailedLoads = true;
  await page.keyboard.type(`${apiKey}-wrong`);
  await page.keyboard.press('Enter');
  const keyAlert = page.getByRole('alert').filter({ hasText: 'rejected the API key' });
  await keyAlert.waitFor();
  summary.rejectedKeyAlert = await keyAlert.textContent();
  summary.rejectedKeyNotice = await page.locator('#notice').textContent();
  await shoot('key-rejected');
  expectFailedLoads = false;
  await page.getByLabel('API key', { exact: true }).fill(apiKey);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();

  // Files that the dry run rejects outright show the reason, and cannot be submitted.
  await nav.getByRole('link', { name: 'Import' }).click();
  const startImport = page.getByRole('button', { name: 'Start import' });
  summary.rejectedFiles = {};
  for (const [name, mimeType, buffer] of [['empty.csv', 'text/csv', Buffer.alloc(0)], ['image.png', 'image/png', PNG_BYTES]]) {
    await page.getByLabel('CSV file', { exact: true }).setInputFiles({ name, mimeType, buffer });
    await page.getByRole('button', { name: 'Check file' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'This file cannot be imported' });
    await alert.waitFor();
    summary.rejectedFiles[name] = {
      alert: await alert.textContent(),
      startImportDisabled: await startImport.isDisabled(),
    };
    await shoot(`import-rejected-${name.split('.')[1]}`);
  }

  // Import: dry run, check the suggested mapping, submit, follow the progress to 100%.
  await page.getByLabel('CSV file', { exact: true }).setInputFiles(csvPath);
  summary.startImportEnabledAgain = await startImport.isEnabled();
  await page.getByLabel('Object type', { exact: true }).selectOption('contacts');
  await page.getByRole('button', { name: 'Check file' }).click();
  await page.getByRole('heading', { name: 'Check result' }).waitFor();
  summary.suggestedMapping = {
    Email: await page.getByLabel('Email', { exact: true }).inputValue(),
    'First Name': await page.getByLabel('First Name', { exact: true }).inputValue(),
    Notes: await page.getByLabel('Notes', { exact: true }).inputValue(),
  };
  await shoot('import-check');
  await startImport.click();
  await page.waitForURL(/#\/jobs\/imp_[0-9a-f]{32}$/);
  const jobPageOpened = Date.now();
  summary.importId = decodeURIComponent(page.url().split('#/jobs/')[1]);
  summary.importKeys = importKeys;
  // The "Import accepted." notice must not cover the page's content. A small import can change
  // status before the wait finds it, and the job page then replaces the notice with the new status.
  const notice = page.locator('#notice');
  await notice.filter({ hasText: /^(Import accepted\.|The job is [A-Z]+\.)$/ }).waitFor();
  summary.noticeOverlapsMain = await page.evaluate(() => {
    const notice = document.getElementById('notice').getBoundingClientRect();
    const main = document.getElementById('main').getBoundingClientRect();
    return notice.left < main.right && main.left < notice.right
      && notice.top < main.bottom && main.top < notice.bottom;
  });
  const progress = page.getByRole('progressbar', { name: 'Job progress' });
  await progress.waitFor();
  // Records every value the bar shows, to prove that it moved while the job ran.
  await progress.evaluate((bar) => {
    window.progressValues = [bar.getAttribute('aria-valuenow')];
    new MutationObserver(() => window.progressValues.push(bar.getAttribute('aria-valuenow')))
      .observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
  });
  await progress.and(page.locator('[aria-valuenow="100"]')).waitFor();
  summary.importSeconds = (Date.now() - jobPageOpened) / 1000;
  summary.progressSeen = await progress.getAttribute('aria-valuenow');
  summary.progressValues = await page.evaluate(() => window.progressValues);
  await page.getByRole('heading', { name: /^Failed rows \(\d+\)$/ }).waitFor();
  await page.getByRole('heading', { name: 'Result' }).waitFor();
  // Any read still under way when the job ended has finished drawing by now.
  await page.waitForTimeout(1000);
  summary.failedHeading = await page.getByRole('heading', { name: /^Failed rows/ }).textContent();
  summary.errorTableRows = await page.locator('.error-table tbody tr').count();
  summary.errorReads = errorReads.length;
  summary.failedTileLabel = await page.locator('.tile-failed .tile-label').textContent();
  await shoot('job-detail');
  const [errorsDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download failed rows as CSV' }).click(),
  ]);
  summary.errorsFile = path.join(output, errorsDownload.suggestedFilename());
  await errorsDownload.saveAs(summary.errorsFile);

  // Export: the first submission gets a 503, and its retry carries the same Idempotency-Key. Then
  // wait for the signed link and download the file.
  await nav.getByRole('link', { name: 'Exports' }).click();
  await page.getByLabel('Email (email)', { exact: true }).waitFor();
  summary.exportPropertyLabels = await page.locator('.property-list label.check').allTextContents();
  await page.getByLabel('Name (optional)').fill('dashboard export');
  // A filter property with an empty value is rejected next to the field, and nothing is sent.
  await page.getByLabel('Only records whose property').selectOption('email');
  await page.getByRole('button', { name: 'Create export' }).click();
  const filterValueError = page.locator('#export-filter-value-error');
  await filterValueError.filter({ hasText: /\S/ }).waitFor();
  summary.emptyFilterValue = {
    message: await filterValueError.textContent(),
    invalid: await page.getByLabel('equals', { exact: true }).getAttribute('aria-invalid'),
    focused: await page.evaluate(() => document.activeElement?.id),
    posts: exportKeys.length,
  };
  await page.getByLabel('Only records whose property').selectOption('');
  summary.emptyFilterValue.clearedOnChange = (await filterValueError.textContent()) === '';
  let failedExports = 0;
  await page.route('**/v1/exports', async (route) => {
    if (route.request().method() === 'POST' && failedExports === 0) {
      failedExports += 1;
      await route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        headers: { 'Retry-After': '1' },
        body: JSON.stringify({ title: 'Service unavailable', status: 503, detail: 'Kafka is unavailable.' }),
      });
      return;
    }
    await route.continue();
  });
  expectFailedLoads = true;
  await page.getByRole('button', { name: 'Create export' }).click();
  await page.getByRole('alert').filter({ hasText: 'Kafka is unavailable.' }).waitFor();
  expectFailedLoads = false;
  await page.getByRole('button', { name: 'Create export' }).click();
  const exportLink = page.getByRole('link', { name: 'Download CSV of dashboard export' });
  await exportLink.waitFor();
  await shoot('exports');
  const [exportDownload] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
  summary.exportFile = path.join(output, exportDownload.suggestedFilename());
  await exportDownload.saveAs(summary.exportFile);
  await page.unroute('**/v1/exports');
  summary.exportKeys = exportKeys;

  // Job list: a job submitted while the list is open appears by the list's own refresh. It is an
  // import of an empty file, which fails, and its bar must not look like a success.
  await nav.getByRole('link', { name: 'Jobs' }).click();
  await page.locator('.table tbody tr', { hasText: summary.importId }).waitFor();
  summary.failedJobId = await submitEmptyImport();
  const failedRow = page.locator('.table tbody tr', { hasText: summary.failedJobId });
  await failedRow.locator('.progress-failed').waitFor({ timeout: 30_000 });
  summary.failedJobListBar = {
    classes: await failedRow.getByRole('progressbar').getAttribute('class'),
    valueText: await failedRow.getByRole('progressbar').getAttribute('aria-valuetext'),
  };

  // Filter to finished imports. The unfiltered list is marked first, because it stays in the
  // page until the hashchange event renders the filtered one.
  await page.locator('.table').evaluate((table) => table.classList.add('unfiltered'));
  await page.getByLabel('Kind', { exact: true }).selectOption('imports');
  await page.getByLabel('DONE', { exact: true }).check();
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/#\/jobs\?kind=imports&status=DONE$/);
  await page.locator('.table:not(.unfiltered) tbody tr', { hasText: summary.importId }).waitFor();
  summary.filteredRows = await page.locator('.table:not(.unfiltered) tbody tr').count();
  await shoot('jobs');
  // "Apply filters" with the filters unchanged reads the list again and redraws the table. A
  // timed refresh would not redraw it, because the finished imports on it do not change.
  await page.locator('.table').evaluate((table) => table.classList.add('before-apply'));
  await page.getByRole('button', { name: 'Apply filters' }).click();
  summary.applyUnchangedReread = await page.locator('.table:not(.before-apply)').waitFor({ timeout: 5000 })
    .then(() => true, () => false);

  // The failed job's page states the failure, not "100%" and not "Every row was accepted".
  await page.evaluate((id) => { window.location.hash = `#/jobs/${id}`; }, summary.failedJobId);
  const failedBar = page.getByRole('progressbar', { name: 'Job progress' });
  await page.locator('.progress-large.progress-failed').waitFor();
  await page.getByRole('heading', { name: /^Failed rows/ }).waitFor();
  summary.failedJobPage = {
    classes: await failedBar.getAttribute('class'),
    progressText: await page.locator('.progress-text').textContent(),
    failedRowsText: await page.locator('section:has(#errors-title)').textContent(),
  };
  await shoot('job-failed');

  // Overview: both charts and the queue table from /metrics.
  await nav.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('figure', { name: 'Jobs by state and kind' }).waitFor();
  summary.failedJobOverviewBar = await page.locator('section:has(#recent-title) tbody tr')
    .filter({ has: page.locator(`a[href="#/jobs/${summary.failedJobId}"]`) })
    .getByRole('progressbar').getAttribute('class');
  await page.getByRole('heading', { name: 'Queue depth, all tenants' }).waitFor();
  summary.chartLabel = await page.locator('svg.chart').first().getAttribute('aria-label');
  summary.queueTableRows = await page.locator('section:has(#queue-title) tbody tr').count();
  const readWorkers = () => page.locator('section:has(#workers-title) tbody tr').evaluateAll((rows) => rows
    .map((row) => ({
      kind: row.cells[0].textContent,
      workers: row.cells[1].textContent,
      busy: row.cells[2].textContent,
      utilisation: row.cells[3].textContent,
      bar: row.querySelector('.progress')?.getAttribute('aria-valuetext') ?? null,
    })));
  summary.workers = await readWorkers();
  summary.perMinuteTicks = await page.locator('figure:has-text("per minute") svg.chart text[text-anchor="end"]')
    .allTextContents();
  await shoot('overview');

  // No live worker serves exports: the card shows a note that exports wait.
  const withoutExportWorkers = async (route) => {
    const response = await route.fetch();
    const body = (await response.text())
      .replace(/^(jobgate_fleet_\w+\{kind="exports"\}) .*$/gm, '$1 0');
    await route.fulfill({ response, body });
  };
  await page.route('**/metrics', withoutExportWorkers);
  await nav.getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
  await nav.getByRole('link', { name: 'Overview' }).click();
  const noWorkers = page.locator('section:has(#workers-title) .stale-note');
  await noWorkers.waitFor();
  summary.withoutExportWorkers = { note: await noWorkers.textContent(), rows: await readWorkers() };
  await shoot('overview-without-export-workers');
  await page.unroute('**/metrics', withoutExportWorkers);

  // The gateway becomes unreachable: the overview keeps its data and shows how old it is, and the
  // job list shows what is wrong instead of "Failed to fetch". Both recover on their own.
  expectFailedLoads = true;
  const dropRequest = (route) => route.abort('connectionrefused');
  await page.route('**/v1/**', dropRequest);
  await page.route('**/metrics', dropRequest);
  const unreachable = page.locator('.stale-note', { hasText: 'The gateway is unreachable.' });
  await unreachable.waitFor({ timeout: 15_000 });
  summary.outageOverview = {
    note: await unreachable.textContent(),
    tiles: await page.locator('.tiles .tile').count(),
    updated: await page.locator('.page-head p').textContent(),
  };
  await shoot('overview-unreachable');
  await nav.getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
  await unreachable.waitFor();
  summary.outageJobs = { main: await page.locator('main').textContent() };
  await page.unroute('**/v1/**', dropRequest);
  await page.unroute('**/metrics', dropRequest);
  await page.locator('.table tbody tr').first().waitFor({ timeout: 15_000 });
  summary.outageJobs.recovered = await unreachable.count() === 0;
  expectFailedLoads = false;

  // An unknown job id is shown decoded, as text.
  expectFailedLoads = true;
  await page.evaluate(() => { window.location.hash = '#/jobs/%3Cb%3Ex%3C%2Fb%3E'; });
  const missing = page.getByRole('alert').filter({ hasText: 'No job with id' });
  await missing.waitFor();
  summary.unknownJob = {
    text: await missing.textContent(),
    boldElements: await page.locator('main b').count(),
  };
  expectFailedLoads = false;

  // A 390 px wide screen: wide tables scroll inside their cards, and the page never scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  summary.narrowOverflow = {};
  for (const [name, ready] of [
    ['overview', page.getByRole('heading', { name: 'Queue depth, all tenants' })],
    ['exports', page.getByRole('link', { name: 'Download CSV of dashboard export' })],
    ['jobs', page.locator('.table tbody tr').first()],
  ]) {
    await nav.getByRole('link', { name: name[0].toUpperCase() + name.slice(1) }).click();
    await ready.waitFor();
    summary.narrowOverflow[name] = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (name === 'overview') {
      // The status badges of "Newest jobs" lie inside the table's scroll box without scrolling.
      summary.narrowStatusHidden = await page.locator('section:has(#recent-title) .table-wide').evaluate((box) => {
        const visible = box.getBoundingClientRect();
        return [...box.querySelectorAll('.badge')].filter((badge) => {
          const badgeBox = badge.getBoundingClientRect();
          return badgeBox.width === 0 || badgeBox.left < visible.left || badgeBox.right > visible.right;
        }).length;
      });
      summary.narrowStatusBadges = await page.locator('section:has(#recent-title) .badge').count();
      // The queue and workers tables fit their cards, so every column is in view.
      summary.narrowKindTables = await page.locator('.kind-table').evaluateAll((tables) => tables
        .map((table) => table.parentElement.scrollWidth - table.parentElement.clientWidth));
    }
    await shoot(`narrow-${name}`);
  }
} finally {
  summary.pageErrors = pageErrors;
  await browser.close();
}
console.log(JSON.stringify(summary));

// Submits an import of an empty file through the API, which the worker fails, and returns its id.
async function submitEmptyImport() {
  const form = new FormData();
  form.append('importRequest', new Blob([JSON.stringify({ objectType: 'contacts' })],
    { type: 'application/json' }));
  form.append('files', new Blob([], { type: 'text/csv' }), 'empty.csv');
  const response = await fetch(`${baseUrl}/v1/imports`, {
    method: 'POST', headers: { Authorization: `Bearer ${apiKey}` }, body: form,
  });
  if (response.status !== 202) {
    throw new Error(`the import of an empty file returned HTTP ${response.status}: ${await response.text()}`);
  }
  return (await response.json()).id;
}
