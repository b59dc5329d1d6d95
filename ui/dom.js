// DOM building and formatting helpers. Text always goes in through text nodes, never as HTML, so
// values from the API (file names, cell values) cannot inject markup.

// Creates an element. `attributes` sets attributes, except `on*` keys (event listeners) and
// `dataset`; children are nodes, strings, numbers, or arrays of them; null and false are skipped.
export function h(tag, attributes = {}, ...children) {
  const svg = ['svg', 'g', 'rect', 'line', 'text', 'path', 'circle', 'title', 'polyline'];
  const element = svg.includes(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(element, child);
    } else if (child instanceof Node) {
      element.appendChild(child);
    } else {
      element.appendChild(document.createTextNode(String(child)));
    }
  }
}

// Replaces the children of `element`.
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

// Decodes a percent-encoded address segment, or returns it unchanged when it is malformed (such
// as a lone "%"), where decodeURIComponent would throw URIError.
export function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// A property's name for people: "First Name (firstname)", or the bare name when the label adds
// nothing.
export function propertyLabel(property) {
  return property.label && property.label !== property.name
    ? `${property.label} (${property.name})`
    : property.name;
}

// Wraps a table in a box that scrolls sideways, so a wide table stays inside its card on a narrow
// screen. The box is focusable, so keyboard users can scroll it too.
export function scrollBox(label, table) {
  return h('div', { class: 'table-wide', tabindex: '0', role: 'region', 'aria-label': label }, table);
}

const numberFormat = new Intl.NumberFormat('en');

export function formatNumber(value) {
  return value === undefined || value === null ? '–' : numberFormat.format(value);
}

// Adds thousands separators to the counts and limits inside a sentence from the API, such as
// "Importing rows: 11364 of 300000 processed." Only a run of 4 or more digits between spaces or
// sentence punctuation changes. Ids, quoted cell values, decimals and dates stay as sent.
// NOTE: a bare 4-digit year in a sentence would be grouped too ("2,026"); no API text has one.
export function groupDigits(text) {
  return String(text ?? '').replace(/(^|[\s(])(\d{4,})(?=$|[\s),:;]|\.(?!\d))/g,
    (match, before, digits) => before + numberFormat.format(Number(digits)));
}

export function formatTime(timestamp) {
  if (!timestamp) {
    return '–';
  }
  const date = new Date(timestamp);
  return date.toLocaleString('en-GB', {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
    second: '2-digit',
  });
}

// Formats milliseconds as "850 ms", "12.3 s", "4 min 05 s" or "2 h 03 min".
export function formatDuration(milliseconds) {
  if (milliseconds === null || milliseconds === undefined || Number.isNaN(milliseconds)) {
    return '–';
  }
  if (milliseconds < 1000) {
    return `${Math.max(0, Math.round(milliseconds))} ms`;
  }
  const seconds = milliseconds / 1000;
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

// Returns the duration between two timestamps, or null when either is missing.
export function between(start, end) {
  return start && end ? Date.parse(end) - Date.parse(start) : null;
}

export function formatBytes(bytes) {
  if (bytes === undefined || bytes === null) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export const STATUSES = ['PENDING', 'PROCESSING', 'DONE', 'FAILED', 'CANCELED'];
export const TERMINAL_STATUSES = ['DONE', 'FAILED', 'CANCELED'];

export function statusBadge(status) {
  return h('span', { class: `badge badge-${String(status).toLowerCase()}` }, status);
}

// A progress bar with its ARIA values. `percent` null means the total is not known yet. `status`
// is the job's status, or null for a bar that is not a job's: a DONE bar is green, a FAILED bar
// red and a CANCELED bar grey, so a job that stopped never looks like a success.
export function progressBar(percent, label, status = null) {
  const fill = h('span', { class: 'progress-fill' });
  const bar = h('div', {
    class: 'progress', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100,
  }, fill);
  setProgress(bar, percent, status);
  return bar;
}

// Updates a bar made by progressBar() in place, so it keeps its focus and element.
export function setProgress(bar, percent, status = null) {
  const known = percent !== null && percent !== undefined;
  const filledPercent = known ? Math.min(100, Math.max(0, Math.round(percent))) : 0;
  bar.querySelector('.progress-fill').style.width = `${filledPercent}%`;
  bar.classList.toggle('progress-unknown', !known && !TERMINAL_STATUSES.includes(status));
  for (const terminal of TERMINAL_STATUSES) {
    bar.classList.toggle(`progress-${terminal.toLowerCase()}`, status === terminal);
  }
  if (known) {
    bar.setAttribute('aria-valuenow', String(filledPercent));
  } else {
    bar.removeAttribute('aria-valuenow');
  }
  bar.setAttribute('aria-valuetext', progressValueText(known ? filledPercent : null, status));
}

function progressValueText(percent, status) {
  if (status === 'FAILED' || status === 'CANCELED') {
    const outcome = status === 'FAILED' ? 'failed' : 'canceled';
    return percent === null ? outcome : `${outcome} at ${percent}%`;
  }
  return percent === null ? 'total not known yet' : `${percent}%`;
}

// A job's progress in percent: the API's value, 100 for DONE, or null while the total is unknown.
export function jobPercent(job) {
  if (job.status === 'DONE') {
    return 100;
  }
  return job.progress?.percent ?? null;
}

// A job's progress bar in a table row.
export function jobProgressBar(job) {
  return progressBar(jobPercent(job), `Progress of ${job.name || job.id}`, job.status);
}

// A list item that shows a count in large type above its label. `variant` picks the colour of
// the tile's edge (see .tile-* in style.css).
export function countTile(label, value, variant = 'plain') {
  return h('li', { class: `tile tile-${variant}` },
    h('span', { class: 'tile-value' }, formatNumber(value)),
    h('span', { class: 'tile-label' }, label));
}

export function jobLink(job) {
  return h('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.name || job.id);
}

// Shows a short message in the page's live region, read out by screen readers.
export function announce(message) {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    notice.textContent = '';
  }, 6000);
}

// A rendered problem document or other error, as a block with role="alert".
export function errorBox(error) {
  const problem = error?.problem;
  const title = problem?.title ?? error?.message ?? 'The request failed.';
  const detail = problem?.detail;
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, title), detail ? h('p', {}, groupDigits(detail)) : null);
}
