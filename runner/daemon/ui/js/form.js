// A form per HTTP trigger, made from its operation in /openapi.json: a text, number,
// select or checkbox input per body field, a file input for the field the pipeline reads
// its image from (sent as base64, as the API takes it), and the route's headers and path
// parameters. Submitting sends the JSON body and opens the new job.
import { api } from './api.js';
import { h, jsonBlock, replace } from './dom.js';
import { openapi, operations, requestSchema, resolve } from './schema.js';

function readBase64(file) {
  return new Promise((resolveRead, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolveRead(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function fieldInput(name, schema, required) {
  const common = { name, id: `f-${name}`, required };
  if (schema['x-imagepipe-image']) return h('input', { ...common, type: 'file', accept: 'image/*', dataset: { kind: 'image' } });
  if (schema.enum) {
    return h('select', { ...common, dataset: { kind: schema.type || 'string' } },
      required ? '' : h('option', { value: '' }, '–'),
      schema.enum.map((v) => h('option', { value: JSON.stringify(v), selected: schema.default === v }, String(v))));
  }
  switch (schema.type) {
    case 'boolean':
      return h('input', { ...common, required: false, type: 'checkbox', checked: schema.default === true, dataset: { kind: 'boolean' } });
    case 'integer':
    case 'number':
      return h('input', { ...common, type: 'number', min: schema.minimum, max: schema.maximum,
        step: schema.type === 'integer' ? 1 : 'any', value: schema.default, dataset: { kind: 'number' } });
    case 'object':
    case 'array':
      return h('textarea', { ...common, rows: 3, placeholder: 'JSON', dataset: { kind: 'json' } });
    default: {
      const long = /prompt|text|description/i.test(name) || (schema.maxLength || 0) > 200;
      return h(long ? 'textarea' : 'input', { ...common, type: long ? undefined : 'text', rows: long ? 3 : undefined,
        minlength: schema.minLength, maxlength: schema.maxLength, value: schema.default, dataset: { kind: 'string' } });
    }
  }
}

function field(label, input, help, required) {
  return h('div', { class: 'field' },
    h('label', { for: input.id }, label, required ? h('span', { class: 'req' }, ' *') : ''),
    input, help ? h('small', { class: 'muted' }, help) : '');
}

async function bodyOf(form, schema) {
  const body = {};
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const input = form.elements[name];
    if (!input) continue;
    const kind = input.dataset.kind;
    if (kind === 'image') {
      if (input.files.length) body[name] = await readBase64(input.files[0]);
    } else if (kind === 'boolean') {
      body[name] = input.checked;
    } else if (input.value !== '') {
      if (input.tagName === 'SELECT') body[name] = JSON.parse(input.value);
      else if (kind === 'number') body[name] = Number(input.value);
      else if (kind === 'json') body[name] = JSON.parse(input.value);
      else body[name] = input.value;
    }
    if (prop['x-imagepipe-filename'] && body[name] === undefined) {
      const image = [...form.querySelectorAll('input[data-kind=image]')].find((i) => i.files.length);
      if (image) body[name] = image.files[0].name;
    }
  }
  return body;
}

function triggerForm(doc, { method, path, op, id }) {
  const schema = requestSchema(doc, op) || { type: 'object', properties: {} };
  const params = (op.parameters || []).map((p) => resolve(doc, p)).filter((p) => ['header', 'path', 'query'].includes(p.in));
  const required = new Set(schema.required || []);
  const result = h('div', { class: 'result' });
  const form = h('form', { class: 'trigger', id: `new-${id}`, dataset: { operation: id } },
    params.map((p) => field(`${p.name} (${p.in})`, h('input', { name: `${p.in}:${p.name}`, id: `f-${p.in}-${p.name}`,
      type: 'text', required: p.required }), p.description, p.required)),
    Object.entries(schema.properties || {}).map(([name, prop]) => {
      prop = resolve(doc, prop);
      const input = fieldInput(name, prop, required.has(name));
      return field(name, input, prop['x-imagepipe-filename'] ? `${prop.description || ''} (from the file when empty)` : prop.description, required.has(name));
    }),
    h('button', { type: 'submit' }, `${method} ${path}`), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    replace(result, h('span', { class: 'muted' }, 'Sending…'));
    try {
      const headers = {};
      let target = path;
      const query = new URLSearchParams();
      for (const p of params) {
        const value = form.elements[`${p.in}:${p.name}`].value;
        if (!value) continue;
        if (p.in === 'header') headers[p.name] = value;
        else if (p.in === 'path') target = target.replace(`{${p.name}}`, encodeURIComponent(value));
        else query.set(p.name, value);
      }
      if ([...query].length) target += `?${query}`;
      const json = method === 'GET' || method === 'DELETE' ? undefined : await bodyOf(form, schema);
      const { body, response } = await api(target, { method, json, headers });
      const where = response.headers.get('Location') || '';
      const job = (body && body.job_id) || (where.startsWith('/jobs/') ? where.slice(6) : '');
      if (job) location.hash = `#/jobs/${job}`;
      else replace(result, jsonBlock(body));
    } catch (err) {
      replace(result, h('p', { class: 'error' }, `${err.status || ''} ${err.message}`), err.body ? jsonBlock(err.body) : '');
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'card' },
    h('h2', {}, op.summary || id), op.description ? h('p', { class: 'muted' }, op.description) : '', form);
}

export function showForms(main, only) {
  replace(main, h('h1', {}, 'New job'), h('p', { class: 'muted' }, 'Loading the triggers…'));
  openapi().then((doc) => {
    const ops = operations(doc).filter((o) => {
      const schema = requestSchema(doc, o.op);
      return o.method !== 'GET' && (!schema || schema.type !== 'array') && (!only || o.id === only);
    });
    replace(main, h('h1', {}, 'New job'),
      ops.length > 1 ? h('nav', { class: 'toc' }, ops.map((o) => h('a', { href: `#/new/${o.id}` }, o.op.summary || o.id))) : '',
      ops.length ? ops.map((o) => triggerForm(doc, o)) : h('p', { class: 'muted' }, 'No trigger takes a body here.'));
  }).catch((e) => replace(main, h('h1', {}, 'New job'), h('p', { class: 'error' }, e.message)));
  return null;
}
