// The job list: filters by kind and status kept in the address, and cursor paging. The cursors
// of the pages already seen are kept, so "Previous page" returns to the same page. The shown page
// is read again every 10 seconds while the tab is visible (every 30 s while hidden). A failed
// read keeps the table shown before and is retried every 5 seconds.

import { isNetworkError, listJobs } from '../api.js';
import {
  STATUSES, between, errorBox, formatDuration, formatTime, h, jobLink, jobProgressBar,
  replaceChildren, scrollBox, statusBadge,
} from '../dom.js';
import { readTimeText, refreshFailure } from '../refresh_note.js';

const REFRESH_MS = 10_000;
const RETRY_MS = 5000;

export function render(main, route) {
  const kind = ['imports', 'exports'].includes(route.params.get('kind')) ? route.params.get('kind') : 'jobs';
  const statuses = (route.params.get('status') ?? '').split(',').filter((status) => STATUSES.includes(status));

  const kindSelect = h('select', { id: 'filter-kind', name: 'kind' },
    [['jobs', 'All kinds'], ['imports', 'Imports'], ['exports', 'Exports']].map(([value, label]) =>
      h('option', { value, selected: value === kind }, label)));
  const statusBoxes = STATUSES.map((status) => h('input', {
    type: 'checkbox', id: `filter-${status}`, name: 'status', value: status, checked: statuses.includes(status),
  }));
  const filters = h('form', { class: 'filters', 'aria-label': 'Job filters' },
    h('div', { class: 'field' }, h('label', { for: 'filter-kind' }, 'Kind'), kindSelect),
    h('fieldset', {},
      h('legend', {}, 'Status'),
      statusBoxes.map((box) => h('label', { class: 'check', for: box.id }, box, box.value))),
    h('button', { type: 'submit' }, 'Apply filters'));
  // Filters apply on submit only, so moving through the checkboxes never reloads the page. The
  // address keeps them for reload and sharing. A new address renders the page again, and
  // unchanged filters read the first page again.
  let reloadFirstPage = null;
  const applyFilters = (event) => {
    event?.preventDefault();
    const query = new URLSearchParams();
    if (kindSelect.value !== 'jobs') {
      query.set('kind', kindSelect.value);
    }
    const checked = statusBoxes.filter((box) => box.checked).map((box) => box.value);
    if (checked.length > 0) {
      query.set('status', checked.join(','));
    }
    const hash = `#/jobs${query.size > 0 ? `?${query}` : ''}`;
    if (window.location.hash !== hash) {
      window.location.hash = hash;
    } else {
      reloadFirstPage();
    }
  };
  filters.addEventListener('submit', applyFilters);

  const updated = h('p', { class: 'muted', 'aria-live': 'off' });
  const failure = h('div');
  const results = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' });
  const previous = h('button', { type: 'button', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', disabled: true }, 'Next page');
  const pageLabel = h('span', { class: 'muted' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), updated), filters, failure,
    results, h('nav', { class: 'pager', 'aria-label': 'Pages' }, previous, pageLabel, next));

  // cursors[i] is the `after` value that loads page i. Page 0 has none.
  const cursors = [null];
  let page = 0;
  let stopped = false;
  let retryTimer = null;
  let lastRead = null;
  let shownJson = null;
  let latestRead = 0;
  // `background` marks a timed refresh: it keeps the paging buttons usable and, when the page is
  // unchanged, the table too, so a refresh neither moves the focus nor makes screen readers read
  // the table again.
  const load = async ({ background = false } = {}) => {
    clearTimeout(retryTimer);
    // Only the newest read may draw, since a refresh that started before a click on "Next page"
    // returns the page shown before.
    latestRead += 1;
    const read = latestRead;
    if (!background) {
      results.setAttribute('aria-busy', 'true');
      previous.disabled = true;
      next.disabled = true;
    }
    try {
      const body = await listJobs({ kind, statuses, after: cursors[page], limit: 20 });
      if (stopped || read !== latestRead) {
        return;
      }
      const after = body.paging?.next?.after;
      cursors[page + 1] = after ?? undefined;
      const json = JSON.stringify(body.results);
      if (!background || json !== shownJson) {
        results.setAttribute('aria-live', background ? 'off' : 'polite');
        replaceChildren(results, jobTable(body.results));
        shownJson = json;
      }
      replaceChildren(failure);
      lastRead = new Date();
      updated.textContent = readTimeText(lastRead, false);
      previous.disabled = page === 0;
      next.disabled = !after;
      pageLabel.textContent = `Page ${page + 1}`;
      retryTimer = setTimeout(() => load({ background: true }),
        document.hidden ? REFRESH_MS * 3 : REFRESH_MS);
    } catch (error) {
      if (stopped || read !== latestRead) {
        return;
      }
      // The gateway being down or overloaded passes, so those reads are retried. Any other
      // error (such as an invalid cursor) would only repeat.
      if (isNetworkError(error) || error.status >= 500 || error.status === 429) {
        replaceChildren(failure, refreshFailure(error, RETRY_MS / 1000, lastRead !== null));
        updated.textContent = readTimeText(lastRead, true);
        retryTimer = setTimeout(() => load({ background }), RETRY_MS);
      } else {
        replaceChildren(failure);
        replaceChildren(results, errorBox(error));
      }
      previous.disabled = page === 0;
    }
    results.setAttribute('aria-busy', 'false');
  };
  previous.addEventListener('click', () => {
    page -= 1;
    load();
  });
  next.addEventListener('click', () => {
    page += 1;
    load();
  });
  reloadFirstPage = () => {
    cursors.length = 1;
    page = 0;
    load();
  };
  load();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
  };
}

function jobTable(jobs) {
  if (jobs.length === 0) {
    return h('p', {}, 'No jobs on this page match the filters.');
  }
  return scrollBox('Jobs', h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Jobs, newest first'),
    h('thead', {}, h('tr', {}, ['job', 'kind', 'object', 'status', 'progress', 'created', 'run time']
      .map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, jobs.map((job) => h('tr', {},
      h('td', {}, jobLink(job), h('div', { class: 'muted mono' }, job.id)),
      h('td', {}, job.kind),
      h('td', {}, job.objectType),
      h('td', {}, statusBadge(job.status)),
      h('td', {}, jobProgressBar(job)),
      h('td', {}, formatTime(job.createdAt)),
      h('td', {}, formatDuration(between(job.startedAt, job.completedAt))))))));
}
