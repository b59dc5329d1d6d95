// The dashboard's entry point: the API key form, the header, and the hash router that renders one
// page at a time into <main>. Each page module exports render(main, route) and may return a
// function that stops its timers and streams when the page is left.

import { KEY_REJECTED, KEY_SET, apiKey, forgetApiKey, onKeyChange, setApiKey } from './api.js';
import { announce, h, replaceChildren, safeDecode } from './dom.js';
import * as overview from './pages/overview.js';
import * as jobs from './pages/jobs.js';
import * as jobDetail from './pages/job_detail.js';
import * as importPage from './pages/import.js';
import * as exportsPage from './pages/exports.js';

const main = document.getElementById('main');
let leavePage = null;
// True after the gateway returned 401 for the stored key, until a key is entered or forgotten.
let keyRejected = false;

// Maps a location hash such as "#/jobs/imp_...?status=FAILED" to a page and its parameters.
function parseRoute(hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const segments = path.split('/').filter(Boolean).map(safeDecode);
  const params = new URLSearchParams(query);
  if (segments.length === 0) {
    return { page: overview, name: 'overview', params };
  }
  if (segments[0] === 'jobs' && segments.length === 2) {
    return { page: jobDetail, name: 'jobs', params, id: segments[1] };
  }
  const pages = { jobs, import: importPage, exports: exportsPage };
  const page = segments.length === 1 ? pages[segments[0]] : undefined;
  return page ? { page, name: segments[0], params } : null;
}

function keyForm() {
  const input = h('input', {
    id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'api-key-help',
  });
  const form = h('form', { class: 'card key-form' },
    h('h1', {}, 'Sign in with an API key'),
    keyRejected ? h('div', { class: 'error-box', role: 'alert' },
      h('strong', {}, 'The gateway rejected the API key (HTTP 401).'),
      h('p', {}, 'The key is wrong, revoked or expired. Enter a valid key to continue.')) : null,
    h('p', { id: 'api-key-help' },
      'The key stays in this browser tab only (session storage) and is sent in the ',
      h('code', {}, 'Authorization'), ' header of each API request.'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Use this key'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key) {
      setApiKey(key);
    }
  });
  return form;
}

function renderKeyStatus() {
  const status = document.getElementById('key-status');
  if (!apiKey()) {
    replaceChildren(status);
    return;
  }
  replaceChildren(status, h('span', {}, 'API key set'),
    h('button', { type: 'button', class: 'link-button', onclick: () => forgetApiKey() },
      'Forget key'));
}

function markCurrentLink(name) {
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    if (link.dataset.page === name) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
}

function show() {
  if (leavePage) {
    leavePage();
    leavePage = null;
  }
  renderKeyStatus();
  if (!apiKey()) {
    markCurrentLink(null);
    replaceChildren(main, keyForm());
    main.querySelector('input').focus();
    return;
  }
  const route = parseRoute(window.location.hash || '#/');
  if (!route) {
    markCurrentLink(null);
    replaceChildren(main, h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no dashboard page at this address. ', h('a', { href: '#/' }, 'Go to the overview'), '.'));
    return;
  }
  markCurrentLink(route.name);
  replaceChildren(main);
  leavePage = route.page.render(main, route) ?? null;
  // Moving focus to the new page lets keyboard and screen reader users start reading at once.
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', show);
onKeyChange((reason) => {
  keyRejected = reason === KEY_REJECTED;
  const messages = {
    [KEY_SET]: 'API key set.',
    [KEY_REJECTED]: 'The gateway rejected the API key (HTTP 401). Enter a valid key.',
  };
  announce(messages[reason] ?? 'API key forgotten. Enter a key to continue.');
  show();
});
show();
