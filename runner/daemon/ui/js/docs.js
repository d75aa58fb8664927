// /docs: the daemon's /openapi.json as a page. Each operation with its parameters, body
// and answers, and "Try it": the request filled in from the schema, sent with the key the
// page holds, the answer shown as it came.
import { send, onCredentialChange, setUpKeyPanel } from './api.js';
import { h, jsonBlock, replace } from './dom.js';
import { example, openapi, operations, requestSchema, resolve } from './schema.js';

const main = document.getElementById('app');

function schemaBlock(doc, schema) {
  return schema ? jsonBlock(expand(doc, schema)) : h('p', { class: 'muted' }, 'none');
}

// $refs inlined (once each along a path) so a schema reads in one place.
function expand(doc, schema, seen = new Set()) {
  if (Array.isArray(schema)) return schema.map((s) => expand(doc, s, seen));
  if (!schema || typeof schema !== 'object') return schema;
  if (schema.$ref) {
    if (seen.has(schema.$ref)) return { $ref: schema.$ref };
    return expand(doc, resolve(doc, schema), new Set([...seen, schema.$ref]));
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, expand(doc, v, seen)]));
}

function tryIt(doc, { method, path, op, id }) {
  const params = (op.parameters || []).map((p) => resolve(doc, p));
  const schema = requestSchema(doc, op);
  const inputs = params.map((p) => h('div', { class: 'field' },
    h('label', { for: `t-${id}-${p.name}` }, `${p.name} (${p.in})`, p.required ? h('span', { class: 'req' }, ' *') : ''),
    h('input', { id: `t-${id}-${p.name}`, name: p.name, dataset: { in: p.in }, type: 'text' })));
  const body = schema ? h('textarea', { name: 'body', rows: 8, class: 'mono' }, JSON.stringify(example(doc, schema), null, 2)) : null;
  const answer = h('div', { class: 'answer' });
  const form = h('form', { class: 'try', dataset: { operation: id } }, inputs,
    body ? h('div', { class: 'field' }, h('label', {}, 'Body (application/json)'), body) : '',
    h('button', { type: 'submit' }, `Send ${method} ${path}`), answer);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let target = path;
    const headers = {};
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll('input[data-in]')) {
      if (!input.value) continue;
      if (input.dataset.in === 'path') target = target.replace(`{${input.name}}`, encodeURIComponent(input.value));
      else if (input.dataset.in === 'header') headers[input.name] = input.value;
      else if (input.dataset.in === 'query') query.set(input.name, input.value);
    }
    if ([...query].length) target += `?${query}`;
    if (body) headers['Content-Type'] = 'application/json';
    replace(answer, h('span', { class: 'muted' }, 'Sending…'));
    const started = performance.now();
    try {
      const response = await send(target, { method, headers, body: body ? body.value : undefined });
      const text = await response.text();
      let shown;
      try {
        shown = jsonBlock(JSON.parse(text));
      } catch {
        shown = h('pre', {}, text);
      }
      replace(answer, h('p', { class: 'status' }, h('strong', { class: response.ok ? 'ok' : 'error' }, String(response.status)),
        ` ${response.statusText} · ${Math.round(performance.now() - started)} ms`), shown);
    } catch (err) {
      replace(answer, h('p', { class: 'error' }, err.message));
    }
  });
  return form;
}

function operation(doc, entry) {
  const { method, path, op, id } = entry;
  const responses = Object.entries(op.responses || {}).map(([code, r]) => {
    r = resolve(doc, r);
    const content = r.content && (r.content['application/json'] || Object.values(r.content)[0]);
    return h('details', {}, h('summary', {}, h('code', {}, code), ` ${r.description || ''}`), schemaBlock(doc, content && content.schema));
  });
  return h('details', { class: 'op', id: `op-${id}` },
    h('summary', {}, h('span', { class: `method m-${method.toLowerCase()}` }, method), h('code', {}, path),
      h('span', { class: 'muted' }, ` ${op.summary || ''}`)),
    op.description ? h('p', {}, op.description) : '',
    h('p', { class: 'muted' }, `operationId: ${id}`),
    h('h4', {}, 'Request body'), schemaBlock(doc, requestSchema(doc, op)),
    h('h4', {}, 'Answers'), responses,
    h('h4', {}, 'Try it'), tryIt(doc, entry));
}

async function render() {
  try {
    const doc = await openapi();
    const ops = operations(doc);
    const servers = (doc.servers || []).map((s) => s.url).join(', ');
    replace(main, h('h1', {}, doc.info?.title || 'API', h('span', { class: 'muted' }, ` ${doc.info?.version || ''}`)),
      doc.info?.description ? h('p', {}, doc.info.description) : '',
      h('p', { class: 'muted' }, `OpenAPI ${doc.openapi} · ${ops.length} operation(s)${servers ? ` · server ${servers}` : ''}`),
      ops.map((o) => operation(doc, o)));
  } catch (e) {
    replace(main, h('h1', {}, 'API'), h('p', { class: 'error' }, e.message));
  }
}

setUpKeyPanel();
onCredentialChange(() => location.reload());
render();
