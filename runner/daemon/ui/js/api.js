// Every request the pages make goes through here, with the credential the user gave (kept
// in sessionStorage: this tab only, gone when it closes). A 401 opens the key panel; the
// daemon's answers are checked by the same auth as any client's.
const KEY = 'imagepipe.key';
const listeners = new Set();

export function credential() {
  return sessionStorage.getItem(KEY) || '';
}

export function onCredentialChange(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// fetch() with the credential; answers the Response as is (the docs page shows them raw).
export async function send(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = credential();
  if (key && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
  const response = await fetch(path, { ...options, headers, cache: 'no-store' });
  if (response.status === 401) showKeyPanel(true);
  return response;
}

// JSON in, JSON out; throws ApiError with the daemon's `error` message on a non-2xx.
export async function api(path, options = {}) {
  const init = { ...options };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers = { 'Content-Type': 'application/json', ...(options.headers || {}) };
    delete init.json;
  }
  const response = await send(path, init);
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text };
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return { body, response };
}

// A result's thumbnail as a blob: URL (an <img> cannot send the credential itself), fetched
// once per page load; null when the daemon has none.
const thumbnails = new Map();
export function thumbnail(jobId, item, output = 0) {
  const path = `/jobs/${encodeURIComponent(jobId)}/items/${item}/thumbnail?output=${output}`;
  if (!thumbnails.has(path)) {
    thumbnails.set(path, send(path).then(async (r) => {
      if (!r.ok) return null;
      return URL.createObjectURL(await r.blob());
    }).catch(() => null));
  }
  return thumbnails.get(path);
}

function showKeyPanel(refused) {
  const panel = document.getElementById('key-panel');
  if (!panel) return;
  panel.hidden = false;
  panel.classList.toggle('refused', Boolean(refused));
  document.getElementById('key-input')?.focus();
}

// The header's key button and panel, present on both pages.
export function setUpKeyPanel() {
  const panel = document.getElementById('key-panel');
  document.getElementById('key-button')?.addEventListener('click', () => {
    panel.hidden ? showKeyPanel(false) : (panel.hidden = true);
  });
  document.getElementById('key-form')?.addEventListener('submit', (e) => {
    e.preventDefault();
    const input = document.getElementById('key-input');
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = '';
    panel.hidden = true;
    thumbnails.clear();
    listeners.forEach((fn) => fn());
  });
  document.getElementById('key-forget')?.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    thumbnails.clear();
    listeners.forEach((fn) => fn());
  });
}
