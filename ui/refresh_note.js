// The note of a page that refreshes on its own when a refresh fails. The page keeps the data of
// its last successful read, and the note gives the reason for the failure and the age of the data.

import { isNetworkError } from './api.js';
import { errorBox, h } from './dom.js';

// Returns a note for a failed refresh that the page retries every `retrySeconds`. A network
// failure reads "The gateway is unreachable"; an HTTP error shows its problem document.
export function refreshFailure(error, retrySeconds, hasLastRead) {
  const lastReadNote = hasLastRead ? ' The data below is from the last successful read.' : '';
  const retry = `Retrying every ${retrySeconds} s.${lastReadNote}`;
  if (isNetworkError(error)) {
    return h('div', { class: 'stale-note', role: 'status' },
      h('strong', {}, 'The gateway is unreachable.'), ` ${retry}`);
  }
  const box = errorBox(error);
  box.append(h('p', {}, retry));
  return box;
}

// "Updated 16:04:08" when the last read succeeded, else "Last updated 16:04:08, 40 s ago", or
// "Not loaded yet" before any read succeeded. `lastRead` is a Date or null.
export function readTimeText(lastRead, failing) {
  if (!lastRead) {
    return failing ? 'Not loaded yet' : '';
  }
  const clock = lastRead.toLocaleTimeString('en-GB');
  if (!failing) {
    return `Updated ${clock}`;
  }
  const seconds = Math.max(0, Math.round((Date.now() - lastRead.getTime()) / 1000));
  const age = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  return `Last updated ${clock}, ${age} ago`;
}
