// The import form: pick a CSV file and object type, check it with a dry run that suggests the
// column mapping, adjust the mapping, then submit and follow the job on its own page.

import { getJson, newIdempotencyKey, request, submitImport } from '../api.js';
import {
  announce, countTile, errorBox, formatBytes, formatNumber, groupDigits, h, progressBar, propertyLabel, replaceChildren, scrollBox,
} from '../dom.js';

export function render(main) {
  const file = h('input', { id: 'import-file', name: 'file', type: 'file', accept: '.csv,text/csv', required: true });
  const objectType = h('select', { id: 'import-object-type', name: 'objectType' },
    h('option', { value: 'contacts' }, 'contacts'), h('option', { value: 'companies' }, 'companies'));
  const name = h('input', { id: 'import-name', name: 'name', type: 'text', maxlength: '256', autocomplete: 'off' });
  const delimiter = h('select', { id: 'import-delimiter', name: 'delimiter' },
    [[',', 'comma ( , )'], [';', 'semicolon ( ; )'], ['\t', 'tab'], ['|', 'pipe ( | )']].map(([value, label]) =>
      h('option', { value }, label)));
  const encoding = h('select', { id: 'import-encoding', name: 'encoding' },
    ['utf-8', 'windows-1252', 'iso-8859-1'].map((value) => h('option', { value }, value)));
  const check = h('button', { type: 'button' }, 'Check file');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start import');
  const report = h('div', { 'aria-live': 'polite' });
  const upload = h('div');

  const form = h('form', { class: 'card form', 'aria-labelledby': 'import-title' },
    h('div', { class: 'field' }, h('label', { for: 'import-file' }, 'CSV file'), file),
    h('div', { class: 'field' }, h('label', { for: 'import-object-type' }, 'Object type'), objectType),
    h('div', { class: 'field' }, h('label', { for: 'import-name' }, 'Name (optional)'), name),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'import-delimiter' }, 'Delimiter'), delimiter),
      h('div', { class: 'field' }, h('label', { for: 'import-encoding' }, 'Encoding'), encoding)),
    h('div', { class: 'actions' }, check, submit),
    upload);
  main.append(h('h1', { id: 'import-title' }, 'Import a CSV file'),
    h('p', { class: 'muted' }, 'Check the file first to see how its columns map to properties. Rows are upserted by email (contacts) or domain (companies).'),
    form, report);

  // One Idempotency-Key per submission: a retry of the same form after a failed upload sends the
  // same key, so the gateway creates at most one job. Any change to the form or the mapping
  // starts a new submission.
  let idempotencyKey = null;
  const newSubmission = () => {
    idempotencyKey = null;
  };
  for (const element of [form, report]) {
    element.addEventListener('input', newSubmission);
    element.addEventListener('change', newSubmission);
  }

  // The mapping selects from the last dry run, dropped when the file or object type changes. A
  // file that the dry run rejected outright (empty, binary, too many columns) cannot be
  // submitted until another file or object type is chosen or a new check passes.
  let mapping = null;
  const resetMapping = () => {
    mapping = null;
    submit.disabled = false;
    replaceChildren(report);
  };
  file.addEventListener('change', resetMapping);
  objectType.addEventListener('change', resetMapping);

  const importRequest = () => {
    const body = {
      objectType: objectType.value,
      options: { delimiter: delimiter.value, encoding: encoding.value },
    };
    if (name.value.trim()) {
      body.name = name.value.trim();
    }
    if (mapping) {
      body.columnMappings = mapping
        .filter(({ select }) => select.value !== '')
        .map(({ header, select }) => ({ columnName: header, propertyName: select.value }));
    }
    return body;
  };
  const formData = () => {
    const data = new FormData();
    data.append('importRequest', new Blob([JSON.stringify(importRequest())], { type: 'application/json' }), 'importRequest.json');
    data.append('files', file.files[0], file.files[0].name);
    return data;
  };

  check.addEventListener('click', async () => {
    if (!file.files[0]) {
      file.reportValidity();
      return;
    }
    check.disabled = true;
    replaceChildren(report, h('p', {}, 'Checking the file…'));
    try {
      // A fresh dry run suggests the mapping, so an earlier manual mapping does not carry over.
      mapping = null;
      const [dryRun, properties] = await Promise.all([
        request('/v1/imports?dryRun=true', { method: 'POST', body: formData() }).then((response) => response.json()),
        getJson(`/v1/properties/${objectType.value}`),
      ]);
      if (!Array.isArray(dryRun.columns)) {
        // Without a header there is nothing to map, and the import would fail the same way.
        submit.disabled = true;
        replaceChildren(report, rejectedFileReport(dryRun));
        announce('The file cannot be imported.');
        check.disabled = false;
        return;
      }
      mapping = dryRun.columns.map((column) => ({ header: column.header, select: propertySelect(column, properties.results) }));
      submit.disabled = false;
      replaceChildren(report, ...dryRunReport(dryRun, mapping));
      announce(dryRun.valid ? 'The file passed the check.' : 'The check found problems.');
    } catch (error) {
      replaceChildren(report, errorBox(error));
    }
    check.disabled = false;
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!file.files[0]) {
      file.reportValidity();
      return;
    }
    submit.disabled = true;
    check.disabled = true;
    const size = file.files[0].size;
    const bar = h('div', {}, h('p', {}, `Uploading ${formatBytes(size)}…`), progressBar(0, 'Upload progress'));
    replaceChildren(upload, bar);
    idempotencyKey ??= newIdempotencyKey();
    try {
      const job = await submitImport(formData(), idempotencyKey, (fraction) => {
        replaceChildren(bar, h('p', {}, `Uploading ${formatBytes(size)}…`), progressBar(fraction * 100, 'Upload progress'));
      });
      announce('Import accepted.');
      window.location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    } catch (error) {
      replaceChildren(upload, errorBox(error));
      submit.disabled = false;
      check.disabled = false;
    }
  });
  return null;
}

// A select of the object type's properties for one column, set to the dry run's suggestion.
function propertySelect(column, properties) {
  const select = h('select', { id: `map-${column.index}`, name: `map-${column.index}` },
    h('option', { value: '' }, '(ignore this column)'),
    properties.map((property) => h('option', { value: property.name, selected: property.name === column.propertyName },
      propertyLabel(property))));
  return select;
}

// The check result of a file that has no usable header, so no mapping: the failure's type and
// detail, which the import job would end with too.
function rejectedFileReport(dryRun) {
  const failure = dryRun.failure ?? {};
  const slug = String(failure.type ?? '').split('/').pop();
  return h('section', { class: 'card', 'aria-label': 'Check result' },
    h('h2', {}, 'Check result'),
    h('div', { class: 'error-box', role: 'alert' },
      h('strong', {}, 'This file cannot be imported'),
      h('p', {}, failure.detail ?? 'The gateway could not read a header line from the file.'),
      failure.subject ? h('p', {}, 'Concerns: ', h('code', {}, failure.subject)) : null,
      slug ? h('p', { class: 'mono muted' }, slug) : null),
    h('p', {}, 'Choose another file, or fix this one and check it again, to start an import.'));
}

function dryRunReport(dryRun, mapping) {
  const summary = h('ul', { class: 'tiles tiles-small' },
    [['rows checked', dryRun.rowsChecked], ['valid', dryRun.validRows], ['blank', dryRun.blankRows],
      ['with errors', dryRun.errors?.length ?? 0]].map(([label, value]) => countTile(label, value)));
  const failure = dryRun.failure ? h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, 'This mapping cannot work'), h('p', {}, dryRun.failure.detail ?? ''),
    dryRun.failure.subject ? h('p', {}, 'Concerns: ', h('code', {}, dryRun.failure.subject)) : null) : null;
  const verdict = h('p', { class: dryRun.valid ? 'verdict verdict-ok' : 'verdict verdict-bad' },
    dryRun.valid ? 'The checked rows are valid.' : 'The check found problems; see below.');

  const mappingTable = scrollBox('Column mapping', h('table', { class: 'table' },
    h('caption', {}, 'Column mapping (suggested; change it before you start the import)'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'column in the file'), h('th', { scope: 'col' }, 'property'))),
    h('tbody', {}, mapping.map(({ header, select }) => h('tr', {},
      h('th', { scope: 'row' }, h('label', { for: select.id }, header || '(no header)')), h('td', {}, select))))));

  const errors = dryRun.errors?.length ? scrollBox('Rows with errors', h('table', { class: 'table error-table' },
    h('caption', {}, 'Rows with errors in the checked part of the file'),
    h('thead', {}, h('tr', {}, ['row', 'error', 'column', 'value', 'detail'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, dryRun.errors.map((entry) => h('tr', {},
      h('td', {}, formatNumber(entry.row)), h('td', {}, h('code', {}, entry.kind)), h('td', {}, entry.column ?? ''),
      h('td', { class: 'mono' }, entry.value ?? ''), h('td', {}, groupDigits(entry.detail))))))) : null;

  return [h('section', { class: 'card', 'aria-label': 'Check result' },
    h('h2', {}, 'Check result'), verdict, failure, summary, mappingTable, errors,
    h('p', { class: 'muted' }, `Encoding: ${dryRun.encoding}. Only the first MiB of the file (at most 100 rows) is checked.`))];
}
