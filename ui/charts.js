// Charts drawn as SVG by hand. Each chart is a <figure> whose SVG has role="img" and a text
// summary, and a table with the same numbers follows for screen readers.

import { h, formatNumber } from './dom.js';

// Colours per series, with at least 3:1 contrast against the white chart background.
export const STATUS_COLOURS = {
  PENDING: '#8a5a00',
  PROCESSING: '#1d4ed8',
  DONE: '#15803d',
  FAILED: '#b91c1c',
  CANCELED: '#4b5563',
};

// Draws horizontal stacked bars: one row per group (e.g. job kind), one segment per key.
// `rows` is [{label, counts: {KEY: n}}], and `keys` orders the segments.
export function stackedBars({ title, rows, keys, colours }) {
  const width = 640;
  const rowHeight = 52;
  const labelWidth = 90;
  const height = rows.length * rowHeight + 8;
  const largest = Math.max(1, ...rows.map((row) => keys.reduce((sum, key) => sum + (row.counts[key] ?? 0), 0)));
  const scale = (width - labelWidth - 60) / largest;

  const svg = h('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'aria-label': `${title}: ${summarise(rows, keys)}`,
  });
  rows.forEach((row, index) => {
    const y = index * rowHeight + 4;
    svg.appendChild(h('text', { x: 0, y: y + 27, class: 'chart-label' }, row.label));
    let x = labelWidth;
    let total = 0;
    for (const key of keys) {
      const count = row.counts[key] ?? 0;
      if (count === 0) {
        continue;
      }
      const barWidth = Math.max(2, count * scale);
      svg.appendChild(h('rect', { x, y, width: barWidth, height: rowHeight - 14, fill: colours[key] },
        h('title', {}, `${row.label} ${key}: ${formatNumber(count)}`)));
      x += barWidth;
      total += count;
    }
    svg.appendChild(h('text', { x: x + 6, y: y + 27, class: 'chart-value' }, formatNumber(total)));
  });

  return h('figure', { class: 'chart-figure' },
    h('figcaption', {}, title),
    svg,
    legend(keys, colours),
    dataTable(title, ['', ...keys], rows.map((row) => [row.label, ...keys.map((key) => row.counts[key] ?? 0)])));
}

function summarise(rows, keys) {
  return rows.map((row) => `${row.label} ${keys.map((key) => `${formatNumber(row.counts[key] ?? 0)} ${key}`).join(', ')}`).join('; ');
}

// Swatches get their colour through CSSOM, which the Content-Security-Policy allows where it
// forbids style attributes in markup.
function legend(keys, colours) {
  return h('ul', { class: 'legend' }, keys.map((key) => {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = colours[key];
    return h('li', {}, swatch, key);
  }));
}

// A visually hidden table with the chart's numbers. A table grows to fit its cells whatever its
// width, so the hiding box is a div around it, or the table would widen a narrow page.
function dataTable(caption, header, rows) {
  return h('div', { class: 'visually-hidden' }, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, header.map((cell) => h('th', { scope: 'col' }, cell)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell, index) => (index === 0
      ? h('th', { scope: 'row' }, cell) : h('td', {}, formatNumber(cell)))))))));
}

// Draws paired columns per time bucket, e.g. submissions and completions per minute.
// `buckets` is [{start: Date, values: [a, b]}], and `series` names and colours the values.
export function timeColumns({ title, buckets, series }) {
  const width = 640;
  const height = 220;
  const left = 36;
  const bottom = 24;
  const top = 10;
  const plotHeight = height - bottom - top;
  const largest = Math.max(1, ...buckets.flatMap((bucket) => bucket.values));
  const step = countStep(largest);
  const ceiling = step * Math.ceil(largest / step);
  const slot = (width - left - 4) / buckets.length;
  const columnWidth = Math.max(1, (slot - 2) / series.length);

  const totals = series.map((_, index) => buckets.reduce((sum, bucket) => sum + bucket.values[index], 0));
  const svg = h('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'aria-label': `${title}: ${series.map((item, index) => `${formatNumber(totals[index])} ${item.name}`).join(', ')}`,
  });

  // Horizontal grid lines with their values, whole numbers because the columns are counts.
  for (let value = 0; value <= ceiling; value += step) {
    const y = top + plotHeight - (value / ceiling) * plotHeight;
    svg.appendChild(h('line', { x1: left, x2: width, y1: y, y2: y, class: 'chart-grid' }));
    svg.appendChild(h('text', { x: left - 6, y: y + 4, class: 'chart-axis chart-y-tick', 'text-anchor': 'end' },
      formatNumber(value)));
  }

  buckets.forEach((bucket, index) => {
    const x = left + index * slot + 1;
    bucket.values.forEach((value, seriesIndex) => {
      if (value === 0) {
        return;
      }
      const columnHeight = (value / ceiling) * plotHeight;
      svg.appendChild(h('rect', {
        x: x + seriesIndex * columnWidth, y: top + plotHeight - columnHeight,
        width: columnWidth, height: columnHeight, fill: series[seriesIndex].colour,
      }, h('title', {}, `${clock(bucket.start)} ${series[seriesIndex].name}: ${value}`)));
    });
    // A time label on each fifth minute of the clock keeps the axis readable.
    if (bucket.start.getMinutes() % 5 === 0) {
      svg.appendChild(h('text', { x, y: height - 6, class: 'chart-axis' }, clock(bucket.start)));
    }
  });

  const colours = Object.fromEntries(series.map((item) => [item.name, item.colour]));
  return h('figure', { class: 'chart-figure' },
    h('figcaption', {}, title),
    svg,
    legend(series.map((item) => item.name), colours),
    dataTable(title, ['minute', ...series.map((item) => item.name)],
      buckets.filter((bucket) => bucket.values.some((value) => value > 0))
        .map((bucket) => [clock(bucket.start), ...bucket.values])));
}

// The distance between grid lines for counts up to `largest`: a whole number of 1, 2 or 5 times a
// power of ten that gives at most 5 intervals.
function countStep(largest) {
  const target = Math.max(1, largest / 5);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const factor of [1, 2, 5, 10]) {
    if (target <= factor * power) {
      return factor * power;
    }
  }
  return 10 * power;
}

function clock(date) {
  return date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}
