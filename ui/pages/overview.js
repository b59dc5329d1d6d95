// The overview: job counts by state and kind, submissions and completions per minute, queue
// depth and worker utilisation from /metrics, and the newest jobs. It refreshes every 10 seconds while the tab is visible.
// A failed refresh keeps the last data on screen, marked with how old it is.

import { readMetrics, recentJobs } from '../api.js';
import { STATUS_COLOURS, stackedBars, timeColumns } from '../charts.js';
import {
  STATUSES, countTile, formatNumber, formatTime, h, jobLink, jobProgressBar, progressBar,
  replaceChildren, scrollBox, statusBadge,
} from '../dom.js';
import { readTimeText, refreshFailure } from '../refresh_note.js';

const REFRESH_MS = 10_000;
const WINDOW_MINUTES = 30;
// At most 10 pages of 100 jobs feed the charts, so a busy tenant costs 10 requests per refresh.
const MAX_PAGES = 10;

export function render(main) {
  const content = h('div', { class: 'overview' }, h('p', {}, 'Loading…'));
  const updated = h('p', { class: 'muted', 'aria-live': 'off' });
  const failure = h('div');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), updated), failure, content);

  let timer = null;
  let stopped = false;
  let lastRead = null;
  const refresh = async () => {
    try {
      const since = new Date(Date.now() - 24 * 3600_000).toISOString();
      const [{ jobs, complete }, metrics] = await Promise.all([recentJobs(MAX_PAGES, since), readMetrics()]);
      if (stopped) {
        return;
      }
      replaceChildren(content, ...renderOverview(jobs, complete, metrics));
      replaceChildren(failure);
      lastRead = new Date();
      updated.textContent = readTimeText(lastRead, false);
    } catch (error) {
      if (!stopped) {
        replaceChildren(failure, refreshFailure(error, REFRESH_MS / 1000, lastRead !== null));
        updated.textContent = readTimeText(lastRead, true);
        if (!lastRead) {
          replaceChildren(content);
        }
      }
    }
    if (!stopped) {
      timer = setTimeout(refresh, document.hidden ? REFRESH_MS * 3 : REFRESH_MS);
    }
  };
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function renderOverview(jobs, complete, metrics) {
  const byKind = { imports: {}, exports: {} };
  for (const job of jobs.filter((candidate) => byKind[candidate.kind])) {
    byKind[job.kind][job.status] = (byKind[job.kind][job.status] ?? 0) + 1;
  }
  const count = (status) => jobs.filter((job) => job.status === status).length;
  const scope = complete
    ? `Jobs of this API key's tenant created in the last 24 hours: ${formatNumber(jobs.length)}.`
    : `The newest ${formatNumber(jobs.length)} jobs of this API key's tenant from the last 24 hours. Older ones are left out.`;

  return [
    h('section', { 'aria-labelledby': 'tiles-title' },
      h('h2', { id: 'tiles-title', class: 'visually-hidden' }, 'Totals'),
      h('ul', { class: 'tiles' },
        countTile('Running', count('PROCESSING'), 'processing'),
        countTile('Waiting', count('PENDING'), 'pending'),
        countTile('Done', count('DONE'), 'done'),
        countTile('Failed', count('FAILED'), 'failed'),
        countTile('Canceled', count('CANCELED'), 'canceled')),
      h('p', { class: 'muted' }, scope)),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' },
        stackedBars({
          title: 'Jobs by state and kind',
          rows: [{ label: 'imports', counts: byKind.imports }, { label: 'exports', counts: byKind.exports }],
          keys: STATUSES,
          colours: STATUS_COLOURS,
        })),
      h('section', { class: 'card' },
        timeColumns({
          title: `Submissions and completions per minute, last ${WINDOW_MINUTES} minutes`,
          buckets: perMinute(jobs),
          series: [{ name: 'submitted', colour: '#1d4ed8' }, { name: 'finished', colour: '#15803d' }],
        }))),
    h('div', { class: 'grid-2' }, queueSection(metrics), workersSection(metrics)),
    recentSection(jobs.slice(0, 8)),
  ];
}

// Counts createdAt (submitted) and completedAt (finished) per minute over the window.
function perMinute(jobs) {
  const minute = 60_000;
  const end = Math.floor(Date.now() / minute) * minute;
  const start = end - (WINDOW_MINUTES - 1) * minute;
  const buckets = Array.from({ length: WINDOW_MINUTES }, (_, index) => ({
    start: new Date(start + index * minute), values: [0, 0],
  }));
  const add = (timestamp, seriesIndex) => {
    const index = timestamp ? Math.floor((Date.parse(timestamp) - start) / minute) : -1;
    if (index >= 0 && index < WINDOW_MINUTES) {
      buckets[index].values[seriesIndex] += 1;
    }
  };
  for (const job of jobs) {
    add(job.createdAt, 0);
    add(job.completedAt, 1);
  }
  return buckets;
}

// Returns a card with the gauges from GET /metrics that `content` renders, or with a note on why
// they cannot be shown. `content` gets a reader of one gauge by name and kind.
function metricsCard(id, title, subject, metrics, content) {
  const section = h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title));
  if (!metrics) {
    section.append(h('p', { class: 'muted' }, `GET /metrics is not reachable from this browser, so ${subject} is not shown.`));
  } else if (gauge(metrics, 'jobgate_job_totals_up') === 0) {
    section.append(h('p', { class: 'muted' }, `The gateway could not read the totals from Redis, so ${subject} is not shown.`));
  } else {
    section.append(...content((name, kind) => gauge(metrics, name, kind)));
  }
  return section;
}

function gauge(metrics, name, kind) {
  return metrics.find((sample) => sample.name === name
    && (kind === undefined || sample.labels.kind === kind))?.value;
}

// Returns a bar with the share as text beside it. Narrow screens hide the bar, so the text is the
// part that assistive technology reads.
function utilisation(percent, kind) {
  const bar = progressBar(percent, `${kind} slots busy`);
  bar.setAttribute('aria-hidden', 'true');
  return h('span', { class: 'utilisation' }, bar, h('span', {}, `${percent}%`));
}

// Returns a table with one row per job kind that scrolls inside its card on a narrow screen.
function kindTable(label, columns, rows) {
  return scrollBox(label, h('table', { class: 'table kind-table' },
    h('thead', {}, h('tr', {}, ['kind', ...columns].map((column) => h('th', { scope: 'col' }, column)))),
    h('tbody', {}, rows)));
}

function queueSection(metrics) {
  return metricsCard('queue-title', 'Queue depth, all tenants', 'queue depth', metrics, (value) => [
    kindTable('Queue depth', ['waiting', 'running', 'rows left'], ['imports', 'exports'].map((kind) => h('tr', {},
      h('th', { scope: 'row' }, kind),
      h('td', {}, formatNumber(value('jobgate_jobs_pending', kind))),
      h('td', {}, formatNumber(value('jobgate_jobs_running', kind))),
      h('td', {}, kind === 'imports' ? formatNumber(value('jobgate_rows_remaining', kind)) : '–')))),
  ]);
}

// Worker utilisation from the slot reports that every worker writes to Redis: busy slots over
// slots per kind. A kind without a live worker gets a warning, because its jobs wait until one starts.
function workersSection(metrics) {
  return metricsCard('workers-title', 'Workers, all tenants', 'worker utilisation', metrics, (value) => {
    if (value('jobgate_fleet_slots', 'imports') === undefined) {
      return [h('p', { class: 'muted' }, 'This gateway does not report worker slots.')];
    }
    const kinds = ['imports', 'exports'];
    const rows = kinds.map((kind) => {
      const workers = value('jobgate_fleet_workers', kind) ?? 0;
      const slots = value('jobgate_fleet_slots', kind) ?? 0;
      const busy = value('jobgate_fleet_busy_slots', kind) ?? 0;
      const share = slots > 0 ? Math.round((100 * busy) / slots) : null;
      return h('tr', {},
        h('th', { scope: 'row' }, kind),
        h('td', {}, formatNumber(workers)),
        h('td', {}, `${formatNumber(busy)} of ${formatNumber(slots)}`),
        h('td', {}, share === null ? '–' : utilisation(share, kind)));
    });
    const idle = kinds.filter((kind) => (value('jobgate_fleet_workers', kind) ?? 0) === 0);
    return [
      kindTable('Workers', ['workers', 'busy slots', 'in use'], rows),
      ...idle.map((kind) => h('p', { class: 'stale-note' },
        `No worker serves ${kind}, so new ${kind} wait until one starts.`)),
    ];
  });
}

function recentSection(jobs) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'recent-title' },
    h('h2', { id: 'recent-title' }, 'Newest jobs'));
  if (jobs.length === 0) {
    section.append(h('p', {}, 'No jobs yet. ', h('a', { href: '#/import' }, 'Import a CSV file'), ' to start one.'));
    return section;
  }
  // On a narrow screen style.css hides the secondary columns, then the progress column, and wraps
  // long job names, so the status column stays in view without scrolling sideways.
  const secondary = { class: 'column-secondary' };
  const progress = { class: 'column-progress' };
  section.append(scrollBox('Newest jobs', h('table', { class: 'table newest-jobs' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'job'), h('th', { scope: 'col', ...secondary }, 'kind'),
      h('th', { scope: 'col' }, 'status'), h('th', { scope: 'col', ...progress }, 'progress'),
      h('th', { scope: 'col', ...secondary }, 'created'))),
    h('tbody', {}, jobs.map((job) => h('tr', {},
      h('td', { class: 'job-name' }, jobLink(job)), h('td', secondary, job.kind),
      h('td', {}, statusBadge(job.status)),
      h('td', progress, jobProgressBar(job)),
      h('td', secondary, formatTime(job.createdAt))))))));
  return section;
}
