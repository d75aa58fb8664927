// What the pages need of /openapi.json: its operations, their schemas with $refs resolved,
// and an example body made from a schema.
import { api } from './api.js';

let documentPromise = null;
export function openapi() {
  if (!documentPromise) documentPromise = api('/openapi.json').then(({ body }) => body)
    .catch((e) => { documentPromise = null; throw e; });
  return documentPromise;
}

export function resolve(doc, schema, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 20) return schema;
  if (schema.$ref) {
    const path = schema.$ref.replace(/^#\//, '').split('/');
    return resolve(doc, path.reduce((o, k) => (o ? o[k] : undefined), doc), depth + 1);
  }
  return schema;
}

// Every operation, in the document's order: {method, path, op, id}.
export function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const [method, op] of Object.entries(item))
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
        out.push({ method: method.toUpperCase(), path, op, id: op.operationId || `${method}_${path}` });
  return out;
}

export function requestSchema(doc, op) {
  const content = op.requestBody && op.requestBody.content;
  if (!content) return null;
  const json = content['application/json'] || Object.values(content)[0];
  return json ? resolve(doc, json.schema) : null;
}

// A body that passes the schema as far as an example can: defaults, examples, the first
// enum value, a placeholder of the right type.
export function example(doc, schema, depth = 0) {
  schema = resolve(doc, schema);
  if (!schema || depth > 6) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out = {};
      for (const [k, v] of Object.entries(schema.properties || {})) out[k] = example(doc, v, depth + 1);
      return out;
    }
    case 'array': return schema.items ? [example(doc, schema.items, depth + 1)] : [];
    case 'integer': return schema.minimum ?? 0;
    case 'number': return schema.minimum ?? 0;
    case 'boolean': return false;
    case 'string': return schema['x-imagepipe-image'] ? '<base64 of an image>' : '';
    default: return null;
  }
}
