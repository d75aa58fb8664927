// One job: status and timings, each item with its result thumbnails and its steps (the
// provider chain tried, fall-throughs, latency, usage), the callback's attempts, and the
// two actions the API offers (cancel, send the callback again). Refreshed every 2 s until
// the job and its callback are settled.
import { api, thumbnail } from './api.js';
import { badge, h, jsonBlock, replace, seconds, when } from './dom.js';
import { poll } from './poll.js';

const UNFINISHED = new Set(['queued', 'running']);

function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function usage(u) {
  if (!u || !Object.keys(u).length) return '';
  return Object.entries(u).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
}

function outputs(job, item) {
  return h('div', { class: 'outputs' }, (item.outputs || []).map((o, n) => {
    const img = h('img', { class: 'thumb', alt: `item ${item.index} output ${n}`,
      dataset: { item: item.index, output: n } });
    thumbnail(job.job_id, item.index, n).then((url) => {
      if (url) img.src = url;
      else img.replaceWith(h('span', { class: 'muted' }, 'no thumbnail'));
    });
    const link = o.url || '';
    return h('figure', {}, link ? h('a', { href: link, target: '_blank', rel: 'noopener' }, img) : img,
      h('figcaption', {}, [o.width && `${o.width}×${o.height}`, o.mime, o.bytes && `${o.bytes} B`]
        .filter(Boolean).join(' · '), o.key ? h('div', { class: 'mono' }, o.key) : ''));
  }));
}

// The item's steps on a time axis, each with the chain entries it tried.
function steps(timeline, item) {
  const mine = timeline.filter((s) => s.item === item.index);
  if (!mine.length) return '';
  const total = Math.max(...mine.map((s) => s.start_seconds + s.seconds), 0.001);
  return h('table', { class: 'steps' },
    h('thead', {}, h('tr', {}, ['step', 'provider', 'attempts', 'tried', 'usage', 'took', '']
      .map((c) => h('th', {}, c)))),
    h('tbody', {}, mine.map((s) => {
      const bar = h('span', { class: 'bar-fill' });
      bar.style.marginLeft = `${(100 * s.start_seconds) / total}%`;
      bar.style.width = `${Math.max(1, (100 * s.seconds) / total)}%`;
      const tried = (s.chain || []).map((c) =>
        h('span', { class: `tried o-${c.outcome === 'ok' ? 'ok' : 'bad'}` },
          `${c.provider} ${c.outcome}${c.attempts > 1 ? ` ×${c.attempts}` : ''} ${seconds(c.seconds)}`));
      return h('tr', { class: 'step' },
        h('td', {}, s.step, s.alternative ? h('span', { class: 'muted' }, ` (${s.alternative})`) : ''),
        h('td', {}, s.provider || ''),
        h('td', { class: 'num' }, s.attempts ?? ''),
        h('td', {}, tried),
        h('td', {}, usage(s.usage)),
        h('td', { class: 'num' }, seconds(s.seconds)),
        h('td', { class: 'timeline' }, bar));
    })));
}

function items(job) {
  return (job.items || []).map((item) => h('section', { class: 'item', dataset: { item: item.index } },
    h('h3', {}, `Item ${item.index}: ${item.name || ''} `, badge(item.status)),
    item.error ? h('p', { class: 'error' }, item.error_class ? `${item.error_class}: ` : '', item.error) : '',
    facts([['provider', item.provider], ['provider calls', item.attempts],
      ['fall-throughs', item.fall_throughs], ['took', seconds(item.duration_seconds)],
      ['in providers', item.provider_seconds !== undefined ? seconds(item.provider_seconds) : ''],
      ['usage', usage(item.usage)], ['notes', (item.notes || []).join('; ')]]),
    outputs(job, item),
    steps(job.timeline || [], item)));
}

function callback(job, act) {
  const c = job.callback;
  if (!c) return h('p', { class: 'muted' }, 'No callback.');
  return [
    facts([['status', badge(c.status)], ['attempts', c.attempts], ['next attempt', c.next_attempt_at && when(c.next_attempt_at)]]),
    c.history.length ? h('table', { class: 'attempts' },
      h('thead', {}, h('tr', {}, ['#', 'at', 'outcome', 'error'].map((t) => h('th', {}, t)))),
      h('tbody', {}, c.history.map((a) => h('tr', {}, h('td', {}, a.attempt), h('td', {}, when(a.at)),
        h('td', {}, badge(a.outcome)), h('td', {}, [a.error_class, a.error].filter(Boolean).join(': ')))))) : '',
    h('button', { type: 'button', id: 'retry-callback', disabled: UNFINISHED.has(job.status) || c.status === 'pending',
      onclick: () => act('callbacks/retry') }, 'Send the callback again'),
  ];
}

export function showJob(main, id) {
  const message = h('p', { id: 'job-message', class: 'muted' });
  const body = h('div', { id: 'job' });
  replace(main, h('p', {}, h('a', { href: '#/' }, '← Jobs')), h('h1', {}, 'Job ', h('span', { class: 'mono' }, id)), message, body);

  async function act(action) {
    try {
      const { body: answer } = await api(`/jobs/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
      replace(message, h('span', { class: 'ok' }, action === 'cancel' ? `cancel: ${answer.cancel || answer.status}` : 'callback queued again'));
    } catch (e) {
      replace(message, h('span', { class: 'error' }, e.message));
    }
    load();
  }

  async function load() {
    let job;
    try {
      ({ body: job } = await api(`/jobs/${encodeURIComponent(id)}`));
    } catch (e) {
      replace(body, h('p', { class: 'error' }, e.message));
      if (e.status === 401) throw e;
      return e.status !== 404 && e.status !== 400;
    }
    const t = job.timings || {};
    const sections = items(job);
    const m = job.metrics || {};
    replace(body,
      h('div', { class: 'summary' }, badge(job.status),
        h('button', { type: 'button', id: 'cancel', disabled: !UNFINISHED.has(job.status), onclick: () => act('cancel') }, 'Cancel')),
      job.error ? h('p', { class: 'error' }, job.error) : '',
      facts([['pipeline', job.pipeline], ['created', when(job.created_at)], ['started', when(job.started_at)],
        ['finished', when(job.finished_at)], ['queued for', t.queued_seconds !== undefined ? seconds(t.queued_seconds) : ''],
        ['ran for', t.run_seconds !== undefined ? seconds(t.run_seconds) : ''], ['runs', job.runs],
        ['request id', job.request_id], ['provider calls', m.provider_attempts], ['fall-throughs', m.fall_throughs],
        ['usage', usage(m.usage)]]),
      h('h2', {}, 'Items'), sections.length ? sections
        : h('p', { class: 'muted' }, UNFINISHED.has(job.status) ? 'No results yet.' : 'No results.'),
      h('h2', {}, 'Callback'), callback(job, act),
      h('details', {}, h('summary', {}, 'The job as JSON'), jsonBlock(job)));
    return UNFINISHED.has(job.status) || job.callback?.status === 'pending';
  }
  return poll(load);
}
