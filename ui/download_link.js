// The link to a finished export's file. The gateway signs it for a limited time, so a click on an
// expired link reads a fresh one from the export's result first.

import { getJson } from './api.js';
import { announce, formatTime, h } from './dom.js';

// Time before urlExpiresAt from which a link counts as expired, since the download starts later.
const EXPIRY_MARGIN_MS = 5000;

// Creates the link for `result`, the body of GET /v1/exports/{id}/result. `children` is the
// link's content.
export function exportDownloadLink(job, result, ...children) {
  const link = h('a', { href: result.url, download: '', title: `Valid until ${formatTime(result.urlExpiresAt)}` },
    ...children);
  let expiresAt = Date.parse(result.urlExpiresAt);
  link.addEventListener('click', async (event) => {
    if (Date.now() < expiresAt - EXPIRY_MARGIN_MS) {
      return;
    }
    event.preventDefault();
    try {
      const fresh = await getJson(`/v1/exports/${encodeURIComponent(job.id)}/result`);
      link.href = fresh.url;
      link.title = `Valid until ${formatTime(fresh.urlExpiresAt)}`;
      expiresAt = Date.parse(fresh.urlExpiresAt);
      link.click();
    } catch (error) {
      announce(`The download link could not be renewed: ${error.message}`);
    }
  });
  return link;
}
