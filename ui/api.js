// Calls to the gateway's public HTTP API on the dashboard's own origin. The API key lives in
// sessionStorage, so it is gone when the tab closes, and travels only in the Authorization header.

const KEY_STORAGE_NAME = 'jobgate.apiKey';
const keyListeners = new Set();

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE_NAME);
}

// Reasons for a key change, passed to the listeners of onKeyChange.
export const KEY_SET = 'set';
export const KEY_FORGOTTEN = 'forgotten';
export const KEY_REJECTED = 'rejected';

function notifyKeyListeners(reason) {
  keyListeners.forEach((listener) => listener(reason));
}

export function setApiKey(key) {
  sessionStorage.setItem(KEY_STORAGE_NAME, key);
  notifyKeyListeners(KEY_SET);
}

export function forgetApiKey() {
  sessionStorage.removeItem(KEY_STORAGE_NAME);
  notifyKeyListeners(KEY_FORGOTTEN);
}

// Removes a key for which the gateway returned 401. Requests still in flight with the same key
// get 401 too, and only the first one acts, so a key typed in the meantime is kept.
function rejectApiKey(key) {
  if (apiKey() !== key) {
    return;
  }
  sessionStorage.removeItem(KEY_STORAGE_NAME);
  notifyKeyListeners(KEY_REJECTED);
}

// Calls `listener(reason)` whenever the key is set, forgotten or rejected with a 401.
export function onKeyChange(listener) {
  keyListeners.add(listener);
}

// Returns a new Idempotency-Key value: a random UUID (version 4). crypto.randomUUID exists only
// in secure contexts, so a dashboard served over plain HTTP from another host builds the UUID
// from crypto.getRandomValues, which every context has.
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// An HTTP error with the response's problem document (RFC 9457) when it had one.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `The request failed with HTTP ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: `The request failed with HTTP ${response.status}.` };
  }
}

// Sends a request with the API key and returns the response, or throws ApiError for a status of
// 400 and above. A 401 removes the stored key, so the key form shows again. A network failure
// (no HTTP response) rejects with fetch's TypeError; see isNetworkError.
export async function request(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const key = apiKey();
  if (!key) {
    throw new ApiError(401, { title: 'No API key', detail: 'Enter an API key to continue.' });
  }
  const response = await fetch(path, {
    method,
    body,
    signal,
    cache: 'no-store',
    headers: { ...headers, Authorization: `Bearer ${key}` },
  });
  if (response.status >= 400) {
    const problem = await problemOf(response);
    if (response.status === 401) {
      rejectApiKey(key);
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function getJson(path, options) {
  const response = await request(path, options);
  return response.json();
}

// True when a request got no HTTP response at all, for example because the gateway is down.
export function isNetworkError(error) {
  return error instanceof TypeError || (error instanceof ApiError && error.status === 0);
}

export async function postJson(path, value, headers = {}) {
  const response = await request(path, {
    method: 'POST',
    body: JSON.stringify(value),
    headers: { ...headers, 'Content-Type': 'application/json' },
  });
  return response.json();
}

// Reads GET /v1/jobs (or /v1/imports, /v1/exports) one page at a time. `after` is the cursor of
// the previous page's paging.next.after.
export function listJobs({ kind = 'jobs', statuses = [], after = null, limit = 20 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (statuses.length > 0) {
    query.set('status', statuses.join(','));
  }
  if (after) {
    query.set('after', after);
  }
  return getJson(`/v1/${kind}?${query}`);
}

// Reads the newest jobs, up to `maxPages` pages of 100, for the overview's counts and charts.
export async function recentJobs(maxPages, createdAfter) {
  const jobs = [];
  let after = null;
  for (let page = 0; page < maxPages; page += 1) {
    const query = new URLSearchParams({ limit: '100', createdAfter });
    if (after) {
      query.set('after', after);
    }
    const body = await getJson(`/v1/jobs?${query}`);
    jobs.push(...body.results);
    after = body.paging?.next?.after;
    if (!after) {
      return { jobs, complete: true };
    }
  }
  return { jobs, complete: false };
}

// Follows GET /v1/jobs/{id}/events and calls `onEvent(type, job)` for each Server-Sent Event. It
// uses fetch, because EventSource cannot send an Authorization header. Resolves when the stream
// ends (after the `end` event), and rejects when `signal` aborts it.
export async function followJobEvents(id, onEvent, signal) {
  const response = await request(`/v1/jobs/${encodeURIComponent(id)}/events`, {
    headers: { Accept: 'text/event-stream' },
    signal,
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value.replaceAll('\r\n', '\n');
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      dispatchEvent(buffer.slice(0, boundary), onEvent);
      buffer = buffer.slice(boundary + 2);
      boundary = buffer.indexOf('\n\n');
    }
  }
}

function dispatchEvent(block, onEvent) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') {
      type = value;
    } else if (field === 'data') {
      data.push(value);
    }
  }
  if (data.length > 0) {
    onEvent(type, JSON.parse(data.join('\n')));
  }
}

// Downloads a response that needs the API key (such as the CSV error report) as a file: the body
// becomes a Blob behind an object URL, because a plain link could not carry the key.
export async function downloadWithKey(path, fileName) {
  const response = await request(path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// Submits a multipart import with XMLHttpRequest, because fetch reports no upload progress.
// Calls `onUpload(fraction)` while the file is sent and resolves with the 202 body.
export function submitImport(formData, idempotencyKey, onUpload) {
  return new Promise((resolve, reject) => {
    const key = apiKey();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/imports');
    xhr.setRequestHeader('Authorization', `Bearer ${key}`);
    xhr.setRequestHeader('Idempotency-Key', idempotencyKey);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) {
        onUpload(event.loaded / event.total);
      }
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 400) {
        if (xhr.status === 401) {
          rejectApiKey(key);
        }
        reject(new ApiError(xhr.status, xhr.response));
      } else {
        resolve(xhr.response);
      }
    });
    xhr.addEventListener('error', () => {
      reject(new ApiError(0, { title: 'The upload failed because the gateway could not be reached.' }));
    });
    xhr.send(formData);
  });
}

// Reads GET /metrics (no key needed) and returns its samples as {name, labels, value}, or null
// when the gateway does not serve it to this browser.
export async function readMetrics() {
  let response;
  try {
    response = await fetch('/metrics', { cache: 'no-store' });
  } catch {
    return null;
  }
  if (!response.ok) {
    return null;
  }
  return parseExposition(await response.text());
}

// Parses the sample lines of the Prometheus text format, skipping comments and malformed lines.
export function parseExposition(text) {
  const samples = [];
  const pattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  for (const line of text.split('\n')) {
    const match = line.startsWith('#') ? null : pattern.exec(line);
    if (!match) {
      continue;
    }
    const labels = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}
