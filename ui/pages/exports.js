// Exports: a form that creates one, and the list of exports with a download link for each
// finished one. The list refreshes every 3 seconds while an export is still running.

import { getJson, listJobs, newIdempotencyKey, postJson } from '../api.js';
import { exportDownloadLink } from '../download_link.js';
import {
  TERMINAL_STATUSES, announce, errorBox, formatNumber, formatTime, h, jobLink, jobProgressBar,
  propertyLabel, replaceChildren, scrollBox, statusBadge,
} from '../dom.js';

const REFRESH_MS = 3000;

export function render(main) {
  const objectType = h('select', { id: 'export-object-type', name: 'objectType' },
    h('option', { value: 'contacts' }, 'contacts'), h('option', { value: 'companies' }, 'companies'));
  const name = h('input', { id: 'export-name', name: 'name', type: 'text', maxlength: '256', autocomplete: 'off' });
  const formats = ['csv', 'ndjson'].map((format, index) => h('input', {
    type: 'radio', id: `export-format-${format}`, name: 'format', value: format, checked: index === 0,
  }));
  const properties = h('fieldset', { class: 'property-list' }, h('legend', {}, 'Properties'));
  const filterProperty = h('select', { id: 'export-filter-property', name: 'filterProperty' });
  const filterValue = h('input', {
    id: 'export-filter-value', name: 'filterValue', type: 'text', autocomplete: 'off',
    'aria-describedby': 'export-filter-value-error',
  });
  const filterValueError = h('p', { id: 'export-filter-value-error', class: 'field-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create export');
  const formStatus = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card form', 'aria-labelledby': 'export-form-title' },
    h('h2', { id: 'export-form-title' }, 'New export'),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'export-object-type' }, 'Object type'), objectType),
      h('div', { class: 'field' }, h('label', { for: 'export-name' }, 'Name (optional)'), name)),
    h('fieldset', {}, h('legend', {}, 'Format'),
      formats.map((radio) => h('label', { class: 'check', for: radio.id }, radio, radio.value.toUpperCase()))),
    properties,
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'export-filter-property' }, 'Only records whose property'), filterProperty),
      h('div', { class: 'field' }, h('label', { for: 'export-filter-value' }, 'equals'), filterValue,
        filterValueError)),
    h('div', { class: 'actions' }, submit), formStatus);

  const list = h('div', { 'aria-busy': 'true' });
  main.append(h('h1', {}, 'Exports'), form,
    h('section', { class: 'card', 'aria-labelledby': 'export-list-title' },
      h('h2', { id: 'export-list-title' }, 'Recent exports'), list));

  const loadProperties = async () => {
    try {
      const body = await getJson(`/v1/properties/${objectType.value}`);
      replaceChildren(properties, h('legend', {}, 'Properties'),
        body.results.map((property) => h('label', { class: 'check', for: `export-property-${property.name}` },
          h('input', { type: 'checkbox', id: `export-property-${property.name}`, name: 'properties', value: property.name, checked: true }),
          propertyLabel(property))));
      replaceChildren(filterProperty, h('option', { value: '' }, '(no filter)'),
        body.results.map((property) => h('option', { value: property.name }, propertyLabel(property))));
    } catch (error) {
      replaceChildren(properties, h('legend', {}, 'Properties'), errorBox(error));
    }
  };
  objectType.addEventListener('change', loadProperties);
  loadProperties();

  let timer = null;
  let stopped = false;
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const body = await listJobs({ kind: 'exports', limit: 20 });
      const links = await Promise.all(body.results.map((job) => (job.status === 'DONE' ? downloadLink(job) : null)));
      if (stopped) {
        return;
      }
      replaceChildren(list, exportTable(body.results, links));
      list.setAttribute('aria-busy', 'false');
      if (body.results.some((job) => !TERMINAL_STATUSES.includes(job.status))) {
        timer = setTimeout(refresh, REFRESH_MS);
      }
    } catch (error) {
      if (!stopped) {
        replaceChildren(list, errorBox(error));
      }
    }
  };
  refresh();

  // One Idempotency-Key per submission: a retry of the same form after a failed request sends
  // the same key, so the gateway creates at most one export. Any change to the form starts a
  // new submission, and so does a success.
  let idempotencyKey = null;
  const newSubmission = () => {
    idempotencyKey = null;
  };
  form.addEventListener('input', newSubmission);
  form.addEventListener('change', newSubmission);

  const showFilterValueError = (message) => {
    filterValueError.textContent = message;
    if (message) {
      filterValue.setAttribute('aria-invalid', 'true');
    } else {
      filterValue.removeAttribute('aria-invalid');
    }
  };
  filterValue.addEventListener('input', () => showFilterValueError(''));
  filterProperty.addEventListener('change', () => showFilterValueError(''));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    // An empty value is most likely a field left blank, and sending no filter would export every
    // record, so the form requires a value.
    if (filterProperty.value && filterValue.value === '') {
      showFilterValueError('The value is missing. Enter the value to match, or choose "(no filter)".');
      filterValue.focus();
      return;
    }
    const chosen = [...properties.querySelectorAll('input:checked')].map((box) => box.value);
    if (chosen.length === 0) {
      replaceChildren(formStatus, errorBox({ message: 'Choose at least one property.' }));
      return;
    }
    const body = {
      objectType: objectType.value,
      properties: chosen,
      format: formats.find((radio) => radio.checked).value,
    };
    if (name.value.trim()) {
      body.name = name.value.trim();
    }
    if (filterProperty.value) {
      body.filters = [{ propertyName: filterProperty.value, operator: 'EQ', value: filterValue.value }];
    }
    submit.disabled = true;
    idempotencyKey ??= newIdempotencyKey();
    try {
      const job = await postJson('/v1/exports', body, { 'Idempotency-Key': idempotencyKey });
      newSubmission();
      replaceChildren(formStatus, h('p', {}, 'Export ', jobLink(job), ' created.'));
      announce('Export created.');
      refresh();
    } catch (error) {
      replaceChildren(formStatus, errorBox(error));
    }
    submit.disabled = false;
  });

  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// Reads a finished export's signed link, or an error message when the result is gone.
async function downloadLink(job) {
  try {
    return await getJson(`/v1/exports/${encodeURIComponent(job.id)}/result`);
  } catch (error) {
    return { error };
  }
}

function exportTable(jobs, results) {
  if (jobs.length === 0) {
    return h('p', {}, 'No exports yet.');
  }
  return scrollBox('Exports', h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Exports, newest first'),
    h('thead', {}, h('tr', {}, ['export', 'object', 'status', 'progress', 'rows', 'created', 'file']
      .map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, jobs.map((job, index) => h('tr', {},
      h('td', {}, jobLink(job)),
      h('td', {}, job.objectType),
      h('td', {}, statusBadge(job.status)),
      h('td', {}, jobProgressBar(job)),
      h('td', {}, formatNumber(job.result?.rows ?? job.progress?.rowsProcessed)),
      h('td', {}, formatTime(job.createdAt)),
      h('td', {}, fileCell(job, results[index])))))));
}

function fileCell(job, result) {
  if (!result) {
    return '–';
  }
  if (result.error) {
    return h('span', { class: 'muted' }, result.error.problem?.title ?? 'No file');
  }
  return exportDownloadLink(job, result, `Download ${String(result.format).toUpperCase()}`,
    h('span', { class: 'visually-hidden' }, ` of ${job.name || job.id}`));
}
