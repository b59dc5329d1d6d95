// One job: a live progress bar fed by the job's Server-Sent Events, its counts and timings, the
// failed rows of an import with the CSV report, and the download link of a finished export.

import { ApiError, downloadWithKey, followJobEvents, getJson, request } from '../api.js';
import { exportDownloadLink } from '../download_link.js';
import {
  TERMINAL_STATUSES, announce, between, countTile, errorBox, formatBytes, formatDuration, formatNumber,
  formatTime, groupDigits, h, jobPercent, progressBar, replaceChildren, setProgress, statusBadge,
} from '../dom.js';

const ERROR_ROWS_SHOWN = 100;
const MAX_RECONNECTS = 5;
// While an import runs, its failed rows are read at most this often, because a large import with
// many failed rows sends several events a second. They are read once more when the job ends.
const ERRORS_REFRESH_MS = 5000;

export function render(main, route) {
  const id = route.id;
  const controller = new AbortController();
  const view = createView(id);
  main.append(view.root);

  let job = null;
  // The failed count of the last read of the error list, its time, a pending throttled read, and
  // whether the read after the job ended was made.
  let failedRowsShown = -1;
  let errorsReadAt = 0;
  let errorsTimer = null;
  let finalErrorsRead = false;
  const readErrors = () => {
    errorsTimer = null;
    errorsReadAt = Date.now();
    failedRowsShown = job.counts?.failed ?? 0;
    view.loadErrors(job, controller.signal);
  };
  // The error list grows while an import runs, so it is read again when the failed count moves.
  const scheduleErrors = () => {
    if (job.kind !== 'imports' || finalErrorsRead) {
      return;
    }
    if (TERMINAL_STATUSES.includes(job.status)) {
      finalErrorsRead = true;
      clearTimeout(errorsTimer);
      readErrors();
      return;
    }
    if ((job.counts?.failed ?? 0) === failedRowsShown || errorsTimer !== null) {
      return;
    }
    errorsTimer = setTimeout(readErrors, Math.max(0, errorsReadAt + ERRORS_REFRESH_MS - Date.now()));
  };
  const update = (next) => {
    const changedStatus = job && job.status !== next.status;
    job = next;
    view.show(job);
    if (changedStatus) {
      announce(`The job is ${job.status}.`);
    }
    scheduleErrors();
    if (job.status === 'DONE') {
      view.loadResult(job, controller.signal);
    }
  };

  const follow = async () => {
    try {
      update(await getJson(`/v1/jobs/${encodeURIComponent(id)}`, { signal: controller.signal }));
    } catch (error) {
      if (!controller.signal.aborted) {
        replaceChildren(view.root, h('h1', {}, 'Job'), jobReadError(id, error),
          h('p', {}, h('a', { href: '#/jobs' }, 'Back to the job list')));
      }
      return;
    }
    // The stream's first event is the current state, so a reconnect misses no change.
    for (let attempt = 0; attempt <= MAX_RECONNECTS && !TERMINAL_STATUSES.includes(job.status); attempt += 1) {
      view.setLive('live');
      try {
        await followJobEvents(id, (type, data) => {
          attempt = 0;
          update(data);
        }, controller.signal);
      } catch (error) {
        if (controller.signal.aborted || (error instanceof ApiError && error.status < 500)) {
          break;
        }
      }
      if (!TERMINAL_STATUSES.includes(job.status)) {
        view.setLive('reconnecting');
        await new Promise((resolve) => { setTimeout(resolve, 1000 * (attempt + 1)); });
      }
    }
    if (!controller.signal.aborted) {
      view.setLive(TERMINAL_STATUSES.includes(job.status) ? 'finished' : 'stopped');
    }
  };
  follow();
  return () => {
    controller.abort();
    clearTimeout(errorsTimer);
  };
}

// The gateway's 404 detail quotes the id as it appeared in the request path, still
// percent-encoded, so the page states the decoded id itself, as text.
function jobReadError(id, error) {
  if (error instanceof ApiError && error.status === 404) {
    return h('div', { class: 'error-box', role: 'alert' },
      h('strong', {}, error.problem?.title ?? 'No such job'),
      h('p', {}, 'No job with id ', h('code', { class: 'job-id' }, id), '.'));
  }
  return errorBox(error);
}

// Creates the page's elements once. show() updates them in place, so the progress bar keeps its
// focus and screen readers announce changes instead of a new page.
function createView(id) {
  const title = h('h1', {}, 'Job');
  const status = h('p', { class: 'job-status' });
  const live = h('span', { class: 'live', role: 'status' });
  const bar = progressBar(null, 'Job progress');
  bar.classList.add('progress-large');
  const progressText = h('p', { class: 'progress-text' });
  const actions = h('div', { class: 'actions' });
  const facts = h('div', { class: 'grid-2' });
  const failure = h('div');
  const result = h('section', { class: 'card', 'aria-labelledby': 'result-title', hidden: true });
  const errors = h('section', { class: 'card', 'aria-labelledby': 'errors-title', hidden: true });
  const root = h('div', { class: 'job-detail' },
    h('p', {}, h('a', { href: '#/jobs' }, '← All jobs')),
    title, status,
    h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'progress-title' }, 'Progress'), live),
      bar, progressText, actions),
    failure, facts, result, errors);

  const cancelButton = h('button', { type: 'button', class: 'danger' }, 'Cancel job');
  cancelButton.addEventListener('click', async () => {
    cancelButton.disabled = true;
    try {
      await request(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
      announce('Cancel requested.');
    } catch (error) {
      cancelButton.disabled = false;
      replaceChildren(failure, errorBox(error));
    }
  });

  let resultLoaded = false;
  let errorsRequest = 0;
  return {
    root,
    setLive(state) {
      const text = {
        live: 'Live updates on', reconnecting: 'Reconnecting…', finished: 'Finished',
        stopped: 'Live updates stopped; reload the page to resume',
      }[state];
      live.textContent = text;
      live.dataset.state = state;
    },
    show(job) {
      title.textContent = job.name || job.id;
      replaceChildren(status, statusBadge(job.status), ' ', groupDigits(job.statusDescription));
      const percent = jobPercent(job);
      setProgress(bar, percent, job.status);
      progressText.textContent = progressSentence(job, percent);
      replaceChildren(actions, TERMINAL_STATUSES.includes(job.status) ? null : cancelButton);
      replaceChildren(failure, job.errorDetails ? h('div', { class: 'error-box', role: 'alert' },
        h('strong', {}, 'The job failed'), h('p', {}, groupDigits(job.errorDetails.detail)),
        h('p', { class: 'mono muted' }, job.errorDetails.type ?? '')) : null);
      replaceChildren(facts, factsCard('Details', details(job)), factsCard('Timings', timings(job)),
        job.counts ? countsCard(job.counts) : null);
    },
    async loadResult(job, signal) {
      if (resultLoaded) {
        return;
      }
      resultLoaded = true;
      try {
        const body = await getJson(`/v1/${job.kind}/${encodeURIComponent(job.id)}/result`, { signal });
        replaceChildren(result, h('h2', { id: 'result-title' }, 'Result'), resultContent(job, body));
      } catch (error) {
        resultLoaded = false;
        replaceChildren(result, h('h2', { id: 'result-title' }, 'Result'), errorBox(error));
      }
      result.hidden = false;
    },
    async loadErrors(job, signal) {
      // Only the newest request may draw, since an older, slower one would show stale rows.
      errorsRequest += 1;
      const mine = errorsRequest;
      try {
        const body = await getJson(`/v1/imports/${encodeURIComponent(job.id)}/errors?limit=${ERROR_ROWS_SHOWN}`, { signal });
        if (mine === errorsRequest) {
          replaceChildren(errors, ...errorRows(job, body));
          errors.hidden = body.total === 0 && !TERMINAL_STATUSES.includes(job.status);
        }
      } catch (error) {
        if (!signal.aborted && mine === errorsRequest) {
          replaceChildren(errors, h('h2', { id: 'errors-title' }, 'Failed rows'), errorBox(error));
          errors.hidden = false;
        }
      }
    },
  };
}

function progressSentence(job, percent) {
  const processed = formatNumber(job.progress?.rowsProcessed ?? 0);
  const total = job.progress?.rowsTotal;
  const rows = total === undefined ? `${processed} rows processed` : `${processed} of ${formatNumber(total)} rows`;
  // A job that stopped states its outcome in place of a percentage, which would read as success
  // at 100% (a FAILED import of an empty file has processed 0 of 0 rows).
  if (job.status === 'FAILED') {
    return `Failed · ${rows}`;
  }
  if (job.status === 'CANCELED') {
    return `Canceled · ${rows}`;
  }
  return percent === null ? `${rows}; the total is not known yet.` : `${Math.round(percent)}% · ${rows}`;
}

function details(job) {
  return [
    ['id', h('span', { class: 'mono' }, job.id)],
    ['kind', job.kind],
    ['object type', job.objectType],
    ['attempts', formatNumber(job.attempts)],
    job.queuePosition ? ['place in queue', formatNumber(job.queuePosition)] : null,
    job.unmappedColumns?.length ? ['ignored columns', job.unmappedColumns.join(', ')] : null,
  ];
}

function timings(job) {
  return [
    ['created', formatTime(job.createdAt)],
    ['started', formatTime(job.startedAt)],
    ['finished', formatTime(job.completedAt)],
    ['waited', formatDuration(between(job.createdAt, job.startedAt))],
    ['ran', formatDuration(between(job.startedAt, job.completedAt))],
    ['deleted after', job.expiresAt ? formatTime(job.expiresAt) : '–'],
  ];
}

function factsCard(heading, rows) {
  return h('section', { class: 'card' }, h('h2', {}, heading),
    h('dl', { class: 'facts' }, rows.filter(Boolean).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])));
}

function countsCard(counts) {
  const entries = [['read', counts.rowsRead], ['created', counts.created], ['updated', counts.updated],
    ['failed', counts.failed], ['blank', counts.skippedBlank]];
  return h('section', { class: 'card card-wide' }, h('h2', {}, 'Rows'),
    h('ul', { class: 'tiles tiles-small' }, entries.map(([label, value]) => countTile(label, value, label))));
}

function resultContent(job, body) {
  if (job.kind === 'exports') {
    // The signed link needs no API key, so a plain link downloads the file.
    const link = exportDownloadLink(job, body, `Download ${job.id}.${body.format}`);
    link.classList.add('button', 'primary');
    return h('div', {},
      h('p', {}, `${formatNumber(body.rows)} rows, ${formatBytes(body.bytes)}, ${String(body.format).toUpperCase()}.`),
      h('p', {}, link),
      h('p', { class: 'muted' }, 'The link is signed for a limited time and renewed when you use it after that.'));
  }
  const counts = body.counts ?? {};
  return h('p', {}, `${formatNumber(counts.created)} created, ${formatNumber(counts.updated)} updated, `
    + `${formatNumber(counts.failed)} failed out of ${formatNumber(counts.rowsRead)} rows read.`);
}

function errorRows(job, body) {
  const heading = h('h2', { id: 'errors-title' }, `Failed rows (${formatNumber(body.total)})`);
  if (body.total === 0) {
    return [heading, h('p', {}, noFailedRowsText(job.status))];
  }
  const download = h('button', { type: 'button' }, 'Download failed rows as CSV');
  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      await downloadWithKey(`/v1/imports/${encodeURIComponent(job.id)}/errors?format=csv`, `${job.id}-errors.csv`);
    } catch (error) {
      announce(`The download failed: ${error.message}`);
    }
    download.disabled = false;
  });
  const partialNote = body.results.length < body.total ? `The first ${formatNumber(body.results.length)} are shown. ` : '';
  return [
    h('div', { class: 'section-head' }, heading, download),
    h('p', { class: 'muted' }, `${partialNote}The CSV contains every failed row with its original cells, ready to fix and import again.`),
    h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Failed rows' },
      h('table', { class: 'table error-table' },
        h('thead', {}, h('tr', {}, ['row', 'error', 'column', 'value', 'detail'].map((name) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, body.results.map((entry) => h('tr', {},
          h('td', {}, formatNumber(entry.row)), h('td', {}, h('code', {}, entry.kind)),
          h('td', {}, entry.column ?? ''), h('td', { class: 'mono' }, entry.value ?? ''),
          h('td', {}, groupDigits(entry.detail))))))),
  ];
}

function noFailedRowsText(status) {
  if (status === 'DONE') {
    return 'Every row was accepted.';
  }
  if (status === 'FAILED') {
    return 'No row was rejected before the job failed.';
  }
  if (status === 'CANCELED') {
    return 'No row was rejected before the job was canceled.';
  }
  return 'No failed rows so far.';
}
