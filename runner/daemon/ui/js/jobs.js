// The jobs list: newest first, filtered by pipeline and status, a page at a time by the
// API's cursor, refreshed every 2 s. The first page is what most visits ask for, and the
// daemon answers it from an index (GET /jobs?limit=25).
import { api, thumbnail } from './api.js';
import { badge, h, replace, seconds, when } from './dom.js';
import { poll } from './poll.js';

const STATUSES = ['queued', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled'];
const PAGE = 25;
const FINISHED = new Set(['completed', 'completed_with_errors']);
let pipelineNames = null;  // from /openapi.json and /health/ready, once per page load

async function pipelines() {
  if (pipelineNames) return pipelineNames;
  try {
    const { body } = await api('/health/ready');
    pipelineNames = Object.keys(body.pipelines || {}).sort();
  } catch (e) {
    if (e.body && e.body.pipelines) pipelineNames = Object.keys(e.body.pipelines).sort();
    else pipelineNames = [];
  }
  return pipelineNames;
}

function filterBar(params, names, go) {
  const select = (name, values) =>
    h('select', { name, 'aria-label': name, onchange: go },
      h('option', { value: '' }, `any ${name}`),
      values.map((v) => h('option', { value: v, selected: params.get(name) === v }, v)));
  return h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
    select('pipeline', names), select('status', STATUSES));
}

function duration(job) {
  if (!job.started_at) return '–';
  const end = job.finished_at ? new Date(job.finished_at) : new Date();
  return seconds((end - new Date(job.started_at)) / 1000);
}

function row(job) {
  const img = h('img', { class: 'thumb small', alt: '', hidden: true });
  if (FINISHED.has(job.status))
    thumbnail(job.job_id, 0).then((url) => {
      if (url) Object.assign(img, { src: url, hidden: false });
    });
  const link = `#/jobs/${job.job_id}`;
  return h('tr', { dataset: { job: job.job_id } },
    h('td', {}, h('a', { href: link }, img)),
    h('td', {}, h('a', { href: link, class: 'mono' }, job.job_id.slice(0, 8))),
    h('td', {}, job.pipeline),
    h('td', {}, badge(job.status)),
    h('td', {}, when(job.created_at)),
    h('td', { class: 'num' }, duration(job)),
    h('td', { class: 'num' }, job.runs > 1 ? job.runs : ''));
}

export function showJobs(main, params) {
  const cursors = [];  // the cursors of the pages before this one, to go back
  let cursor = params.get('cursor') || '';
  const table = h('tbody');
  const pager = h('div', { class: 'pager' });
  const status = h('p', { class: 'muted', id: 'jobs-status' });
  const go = (e) => {
    const form = e.target.form;
    const next = new URLSearchParams();
    for (const name of ['pipeline', 'status']) if (form[name].value) next.set(name, form[name].value);
    location.hash = `#/?${next}`;
  };
  replace(main, h('h1', {}, 'Jobs'), h('div', { id: 'filter-slot' }), status,
    h('table', { class: 'jobs' },
      h('thead', {}, h('tr', {}, ['', 'job', 'pipeline', 'status', 'created', 'took', 'runs']
        .map((c) => h('th', {}, c)))), table),
    pager);
  pipelines().then((names) => replace(main.querySelector('#filter-slot'), filterBar(params, names, go)));

  async function load() {
    const query = new URLSearchParams({ limit: PAGE });
    for (const name of ['pipeline', 'status']) if (params.get(name)) query.set(name, params.get(name));
    if (cursor) query.set('cursor', cursor);
    const started = performance.now();
    try {
      const { body } = await api(`/jobs?${query}`);
      replace(table, body.jobs.map(row));
      replace(status, body.jobs.length ? `${body.jobs.length} job(s) on this page · ` +
        `answered in ${Math.round(performance.now() - started)} ms` : 'No jobs match.');
      replace(pager,
        h('button', { type: 'button', disabled: !cursors.length, onclick: () => {
          cursor = cursors.pop();
          load();
        } }, '← Newer'),
        h('button', { type: 'button', disabled: !body.next_cursor, onclick: () => {
          cursors.push(cursor);
          cursor = body.next_cursor;
          load();
        } }, 'Older →'));
    } catch (e) {
      replace(status, h('span', { class: 'error' }, e.message));
      throw e;
    }
  }
  return poll(load);
}
